import OxpeckerStore

/// Readable text for the customer-context commands: a brief, a gate answer, a signal.
enum ContextText {
    /// `  [field stage, note 01J…]`
    static func sources(_ sources: [SourceRef]) -> String {
        sources.isEmpty ? "" : "  [" + sources.map(\.description).joined(separator: ", ") + "]"
    }

    static func brief(_ brief: CustomerBrief) -> String {
        var lines = ["\(brief.displayName) (\(brief.customer)) — brief at \(brief.at)"]
        if !brief.needs.isEmpty { lines.append("  needs now: \(brief.needs.joined(separator: ", "))") }
        if !brief.avoid.isEmpty { lines.append("  avoid: \(brief.avoid.joined(separator: ", "))") }
        for section in BriefStatement.Section.allCases {
            let statements = brief.statements(in: section)
            guard !statements.isEmpty else { continue }
            lines.append("  " + section.rawValue.replacingOccurrences(of: "_", with: " "))
            lines += statements.map { "    \($0.text)\(sources($0.sources))" }
        }
        return lines.joined(separator: "\n")
    }

    static func decision(_ decision: ContactDecision) -> String {
        let request = decision.request
        var lines = [
            "\(decision.allowed ? "yes" : "no"): \(decision.customer) by \(request.channel.rawValue) for \(request.purpose)"
                + (request.topic.map { " (\($0))" } ?? "") + " at \(request.at)"
        ]
        lines += decision.reasons.map { "  \(mark($0.verdict)) \($0.check.rawValue): \($0.message)\(sources($0.sources))" }
        return lines.joined(separator: "\n")
    }

    /// ✗ blocks, ✓ passes, – does not apply.
    static func mark(_ verdict: GateReason.Verdict) -> String {
        switch verdict {
        case .blocks: "✗"
        case .passes: "✓"
        case .notApplicable: "–"
        }
    }

    static func signal(_ signal: Signal) -> String {
        "\(signal.customer)  \(signal.kind.rawValue): \(signal.reason)\n    → \(signal.nextStep)\(sources(signal.sources))"
    }
}
