import Foundation
import OxpeckerProtocol
import Testing

/// `oxpecker brief`, `may-contact`, `signals` and `rules`, as a script or an advisor uses them.
@Suite("CLI customer context")
struct ContextCommandTests {
    /// A store with Jana, renovating, who withdrew marketing consent.
    private func tourStore(_ folder: TemporaryFolder) async throws -> OxpeckerBinary {
        let cli = folder.oxpecker()
        try await cli.ok(["init"])
        try await cli.ok([
            "customer", "add", "c-1001", "--legal-name", "Jana Nováková", "--preferred-name", "Jana", "--stage", "active", "--advisor", "a-417",
            "--scope", "branch:HN01", "--set", "contact_budget=3/month", "--set", "quiet_hours=21:00-08:00 Europe/Prague",
            "--set", "preferred_channels=branch,email",
        ])
        try await cli.ok([
            "note", "add", "c-1001", "--author", "a-417", "--channel", "branch", "--sentiment", "positive", "--text",
            "Renovating the flat; asked about a credit line, not investments.", "--follow-up", "2026-12-01",
            "--at", "2026-11-24T10:00:00Z",
        ])
        try await cli.ok(["consent", "c-1001", "--purpose", "marketing", "--withdraw", "--source", "branch", "--at", "2026-11-24T10:05:00Z"])
        try await cli.ok(["life-event", "c-1001", "--type", "renovation", "--date", "2026-10-01", "--source", "customer", "--confidence", "90"])
        return cli
    }

    @Test("brief: text for a person and JSON for a program, each statement with its sources")
    func brief() async throws {
        let folder = try TemporaryFolder()
        let cli = try await tourStore(folder)
        let text = try await cli.ok(["brief", "c-1001", "--at", "2026-11-25T10:00:00Z"]).stdout
        #expect(text.contains("needs now: liquidity"))
        #expect(text.contains("renovation on 2026-10-01"))
        #expect(text.contains("marketing consent withdrawn"))
        #expect(text.contains("[life_event "))
        let json = try JSONValue(parsing: try await cli.ok(["brief", "c-1001", "--json", "--at", "2026-11-25T10:00:00Z"]).stdout)
        #expect(json["needs"] == ["liquidity"])
        let statements = try #require(json["statements"]?.arrayValue)
        #expect(statements.allSatisfy { !($0["sources"]?.arrayValue ?? []).isEmpty })
    }

    /// The gate's checks, in the order it lists them when none blocks.
    static let checks = ["do_not_contact", "consent", "quiet_hours", "budget", "dismissal", "care_period", "complaint", "channel"]

    @Test("may-contact: exit 0 when the contact may be made, 8 when not, with every check's verdict")
    func mayContact() async throws {
        let folder = try TemporaryFolder()
        let cli = try await tourStore(folder)
        let marketing = try await cli.run(["may-contact", "c-1001", "--channel", "email", "--purpose", "marketing", "--at", "2026-11-25T10:00:00Z"])
        #expect(marketing.status == 8)
        #expect(marketing.stdout.hasPrefix("no: c-1001 by email for marketing"))
        // One line per check, blocking first: ✗ blocks, ✓ passes, – does not apply.
        let lines = marketing.lines.dropFirst()
        #expect(lines.count == Self.checks.count, "\(marketing.stdout)")
        #expect(lines.first?.hasPrefix("  ✗ consent: marketing consent withdrawn") == true, "\(marketing.stdout)")
        let named = lines.compactMap { line in line.split(separator: " ").dropFirst().first.map { String($0.dropLast()) } }
        #expect(named == ["consent"] + Self.checks.filter { $0 != "consent" }, "\(marketing.stdout)")
        #expect(lines.allSatisfy { $0.hasPrefix("  ✗ ") || $0.hasPrefix("  ✓ ") || $0.hasPrefix("  – ") })
        #expect(marketing.stdout.contains("  ✓ do_not_contact: the customer has not asked not to be contacted\n"))
        #expect(marketing.stdout.contains("  ✓ quiet_hours: 11:00 in Europe/Prague is outside quiet hours 21:00-08:00  [field quiet_hours]"))
        #expect(marketing.stdout.contains("  ✓ budget: 0 of 3 proactive contacts in the last month  [field contact_budget]"))
        #expect(marketing.stdout.contains("  ✓ channel: email is a preferred channel (preferred: branch, email)  [field preferred_channels]"))
        let night = try await cli.run(["may-contact", "c-1001", "--channel", "email", "--purpose", "service", "--at", "2026-11-25T21:30:00Z", "--json"])
        #expect(night.status == 8)
        let answer = try JSONValue(parsing: night.stdout)
        #expect(answer["allowed"] == false)
        let reasons = try #require(answer["reasons"]?.arrayValue)
        #expect(reasons.first?["check"] == "quiet_hours")
        #expect(reasons.first?["verdict"] == "blocks" && reasons.first?["blocks"] == true)
        #expect(reasons.compactMap { $0["check"]?.stringValue } == ["quiet_hours"] + Self.checks.filter { $0 != "quiet_hours" })
        for reason in reasons {
            let verdict = try #require(reason["verdict"]?.stringValue, "\(reason)")
            #expect(["passes", "blocks", "not_applicable"].contains(verdict))
            #expect(reason["blocks"] == .bool(verdict == "blocks"), "\(reason)")
            #expect(reason["message"]?.stringValue?.isEmpty == false && reason["sources"]?.arrayValue != nil, "\(reason)")
        }
        let consent = try #require(reasons.first { $0["check"] == "consent" })
        #expect(consent["verdict"] == "not_applicable" && consent["message"] == "no consent is needed for service")
        let day = try await cli.run(["may-contact", "c-1001", "--channel", "email", "--purpose", "service", "--at", "2026-11-25T10:00:00Z"])
        #expect(day.status == 0, "\(day.stdout)\(day.stderr)")
        #expect(day.stdout.hasPrefix("yes:"))
        #expect(day.stdout.contains("\n  – consent: no consent is needed for service\n"))
        #expect(!day.stdout.contains("✗"))
        let security = try await cli.run(["may-contact", "c-1001", "--channel", "sms", "--purpose", "security", "--at", "2026-11-25T21:30:00Z"])
        #expect(security.status == 0, "\(security.stdout)\(security.stderr)")
        #expect(security.stdout.contains("  – quiet_hours: quiet hours do not apply: security is an urgent purpose\n"))
        #expect(security.stdout.contains("  – budget: the contact budget does not apply: security is an urgent purpose\n"))
        #expect(security.stdout.contains("  ✓ channel: sms is not a preferred channel (preferred: branch, email)"))
    }

    @Test("signals and rules: a rules file changes the answer without a rebuild")
    func signalsAndRules() async throws {
        let folder = try TemporaryFolder()
        let cli = try await tourStore(folder)
        let signals = try await cli.ok(["signals", "--scope", "branch:HN01", "--at", "2026-12-05T10:00:00Z", "--json"]).lines
        let kinds = try signals.map { try JSONValue(parsing: $0)["kind"]?.stringValue ?? "" }
        #expect(kinds == ["follow_up_overdue"])
        #expect(try await cli.ok(["signals", "--scope", "branch:XX99", "--at", "2026-12-05T10:00:00Z"]).stdout.isEmpty)

        let rules = try JSONValue(parsing: try await cli.ok(["rules"]).stdout)
        #expect(rules["dismissal_quiet_days"] == .integer(30))
        // The bank lets a renovation be a care period of a year: service is still allowed, with care noted.
        try Data(#"{"life_events": {"renovation": {"care_days": 365}}, "only_preferred_channels": true}"#.utf8)
            .write(to: folder.url.appendingPathComponent("rules.json"))
        let sms = ["may-contact", "c-1001", "--channel", "sms", "--purpose", "service", "--at", "2026-11-25T10:00:00Z"]
        let noted = try await cli.run(sms)
        #expect(noted.status == 0)
        #expect(noted.stdout.contains("✓ channel: sms is not a preferred channel"), "\(noted.stdout)")
        #expect(noted.stdout.contains("✓ care_period: no care period after a life event is running"), "\(noted.stdout)")
        let strict = try await cli.run(sms + ["--rules", "rules.json"])
        #expect(strict.status == 8)
        #expect(strict.stdout.contains("✗ channel: sms is not a preferred channel"))
        #expect(strict.stdout.contains("✓ care_period: renovation on 2026-10-01: needs liquidity"), "\(strict.stdout)")
        #expect(try await cli.run(sms, environment: ["OXPECKER_RULES": "rules.json"]).status == 8)
    }

    @Test(
        "context commands refuse bad input with a clear message",
        arguments: [
            (["may-contact", "c-1001", "--channel", "email", "--purpose", "spam"], 4, "'spam' is not one of"),
            (["may-contact", "c-1001", "--channel", "pigeon", "--purpose", "service"], 4, "'pigeon' is not one of"),
            (["may-contact", "c-404", "--channel", "email", "--purpose", "service"], 3, "unknown customer 'c-404'"),
            (["brief", "c-1001", "--at", "yesterday"], 4, "--at"),
            (["brief", "c-1001", "--rules", "missing.json"], 4, "cannot read the rules file"),
            (["rules", "--rules", "bad.json"], 4, "unknown rule 'quiet'"),
            (["signals", "--scope", "branch:HN01", "--customer", "c-1001"], 2, "do not go together"),
        ] as [([String], Int32, String)])
    func badInput(arguments: [String], status: Int32, message: String) async throws {
        let folder = try TemporaryFolder()
        let cli = try await tourStore(folder)
        try Data(#"{"quiet": 3}"#.utf8).write(to: folder.url.appendingPathComponent("bad.json"))
        let result = try await cli.run(arguments)
        #expect(result.status == status, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("error: ") && result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }
}
