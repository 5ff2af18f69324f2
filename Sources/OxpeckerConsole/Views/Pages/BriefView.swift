import OxpeckerStore

/// The brief as the page shows it: needs and what to avoid, then the statements by section, each with its sources.
struct BriefView {
    let at: String
    let needs: [String]
    let avoid: [String]
    let hasNeeds: Bool
    let hasAvoid: Bool
    let sections: [Section]
    let empty: Bool

    struct Section {
        let title: String
        let statements: [Statement]
    }

    struct Statement {
        let text: String
        let sources: [SourceLink]
        let hasSources: Bool
    }

    init(_ brief: CustomerBrief) {
        at = DisplayText.minute(brief.at)
        needs = brief.needs
        avoid = brief.avoid
        hasNeeds = !brief.needs.isEmpty
        hasAvoid = !brief.avoid.isEmpty
        sections = BriefStatement.Section.allCases.compactMap { section in
            let statements = brief.statements(in: section)
            guard !statements.isEmpty else { return nil }
            return Section(
                title: Self.title(of: section),
                statements: statements.map { Statement(text: $0.text, sources: $0.sources.map(SourceLink.init), hasSources: !$0.sources.isEmpty) })
        }
        empty = sections.isEmpty && needs.isEmpty && avoid.isEmpty
    }

    static func title(of section: BriefStatement.Section) -> String {
        switch section {
        case .caution: "Caution"
        case .relationship: "Relationship"
        case .advisor: "The advisor who knows them"
        case .contact: "How to reach them"
        case .lifeEvent: "Life events"
        case .followUp: "Follow-ups"
        case .complaint: "Complaints"
        case .consent: "Consents"
        case .model: "The bank's model"
        }
    }
}

/// The contact gate's answer as the page shows it.
struct GateView {
    let allowed: Bool
    let headline: String
    let reasons: [Reason]

    struct Reason {
        let check: String
        /// The verdict in words, never in colour alone: "✓ yes", "✗ no", "– does not apply".
        let verdict: String
        /// The class that colours it: yes, no or na.
        let tone: String
        let message: String
        let sources: [SourceLink]
        let hasSources: Bool
    }

    init(_ decision: ContactDecision) {
        allowed = decision.allowed
        let request = decision.request
        headline = "\(decision.allowed ? "Yes" : "No"): \(DisplayText.words(request.channel.rawValue)) for \(request.purpose)"
            + (request.topic.map { " (\($0))" } ?? "") + " at \(DisplayText.minute(request.at))"
        reasons = decision.reasons.map { reason in
            Reason(
                check: DisplayText.words(reason.check.rawValue), verdict: Self.words(reason.verdict),
                tone: Self.tone(reason.verdict), message: reason.message,
                sources: reason.sources.map(SourceLink.init), hasSources: !reason.sources.isEmpty)
        }
    }

    /// A verdict in words, for every reader: the colour only repeats it.
    static func words(_ verdict: GateReason.Verdict) -> String {
        switch verdict {
        case .passes: "✓ yes"
        case .blocks: "✗ no"
        case .notApplicable: "– does not apply"
        }
    }

    /// The class that colours a verdict.
    static func tone(_ verdict: GateReason.Verdict) -> String {
        switch verdict {
        case .passes: "yes"
        case .blocks: "no"
        case .notApplicable: "na"
        }
    }
}
