import Foundation
import OxpeckerProtocol
import OxpeckerStore
import Testing

/// A person's tour of the CLI: every write command, every field type, and what
/// `show --json`, `export --json`, `outbox` and the listings then say.
@Suite("CLI tour")
struct TourTests {
    static let firstTransaction =
        #"{"date":"2026-01-05","place":"branch HN01","what":"deposit","amount":{"value":"500.00","currency":"EUR"}}"#

    /// Every field set in the tour, with its value as typed and as stored (JSON).
    static let fieldValues: [(field: String, input: String, stored: JSONValue)] = [
        ("tax_residence", "CZ", "CZ"),
        ("birth_date", "1984-05-17", "1984-05-17"),
        ("created_at", "2020-02-01T09:30:00Z", "2020-02-01T09:30:00.000Z"),
        ("left_because_of_us", "false", false),
        ("do_not_contact", "no", false),
        ("income_band", "upper_middle", "upper_middle"),
        ("service_preference", "human", "human"),
        ("stage", "active", "active"),
        ("preferred_channels", "email, sms,branch", ["email", "sms", "branch"]),
        ("quiet_hours", "21:00-08:00 Europe/Prague", ["start": "21:00", "end": "08:00", "time_zone": "Europe/Prague"]),
        ("contact_budget", "3/month", ["max_contacts": 3, "period": "month"]),
        (
            "first_transaction", firstTransaction,
            [
                "date": "2026-01-05", "place": "branch HN01", "what": "deposit",
                "amount": ["value": "500.00", "currency": "EUR"],
            ]
        ),
    ]

    @Test("init, add, set every field type, sets, notes, consents, life event, contact: show and export reflect all of it")
    func tour() async throws {
        let folder = try TemporaryFolder()
        let cli = folder.oxpecker()

        let replica = try await cli.ok(["init"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(ReplicaID(rawValue: replica) != nil)

        try await cli.ok([
            "customer", "add", "c-1001", "--legal-name", "Jana Nováková", "--preferred-name", "Jana", "--stage", "prospect",
            "--advisor", "a-417", "--segment", "private", "--scope", "branch:HN01", "--set", "language=cs",
            "--add", "interests=sailing",
        ])
        for (field, input, _) in Self.fieldValues {
            let result = try await cli.ok(["customer", "set", "c-1001", field, input])
            #expect(result.stdout.contains("set \(field) of c-1001"))
        }
        let unchanged = try await cli.ok(["customer", "set", "c-1001", "stage", "active"])
        #expect(unchanged.stdout.contains("unchanged"))
        try await cli.ok(["customer", "set", "c-1001", "segment", "--clear"])

        try await cli.ok(["customer", "add-to", "c-1001", "interests", "chess", "opera"])
        try await cli.ok(["customer", "add-to", "c-1001", "tags", "vip"])
        try await cli.ok(["customer", "remove-from", "c-1001", "interests", "chess"])

        let note = try await cli.ok([
            "note", "add", "c-1001", "--text", "Asked about a mortgage", "--author", "a-417", "--channel", "branch",
            "--sentiment", "positive", "--follow-up", "2026-12-01", "--at", "2026-11-20T10:00:00Z",
        ]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(RecordID(rawValue: note) != nil)
        try await cli.ok(["note", "edit", note, "--text", "Asked about a mortgage for a flat in Brno", "--author", "a-417"])
        let secret = try await cli.ok([
            "note", "add", "c-1001", "--text", "Mentioned a private health matter", "--author", "a-417", "--channel", "phone",
            "--at", "2026-11-21T10:00:00Z",
        ]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try await cli.ok(["note", "redact", secret, "--by", "dpo", "--reason", "health data"])

        try await cli.ok(["consent", "c-1001", "--purpose", "marketing", "--grant", "--source", "mobile_app"])
        try await cli.ok(["consent", "c-1001", "--purpose", "profiling", "--grant", "--source", "branch"])
        try await cli.ok(["consent", "c-1001", "--purpose", "profiling", "--withdraw", "--source", "mobile_app"])
        try await cli.ok([
            "life-event", "c-1001", "--type", "home_purchase", "--date", "2026-03-01", "--source", "advisor", "--confidence", "80",
            "--detail", "flat in Brno",
        ])
        try await cli.ok([
            "contact", "c-1001", "--channel", "sms", "--purpose", "marketing", "--topic", "savings offer", "--outcome", "dismissed",
        ])

        // show --json: everything, as values.
        let shown = try await cli.showJSON("c-1001")
        for (field, _, stored) in Self.fieldValues {
            #expect(shown["fields", field] == stored, "field \(field)")
        }
        #expect(shown["fields", "legal_name"] == "Jana Nováková")
        #expect(shown["fields", "language"] == "cs")
        #expect(shown["fields", "segment"] == nil)
        #expect(shown["display_name"] == "Jana")
        #expect(shown["stage_since"]?.stringValue != nil)
        #expect(shown["sets", "interests"] == ["opera", "sailing"])
        #expect(shown["sets", "tags"] == ["vip"])
        #expect(shown["sets", "scopes"] == ["branch:HN01"])
        #expect(shown["consents"] == .array([
            ["purpose": "marketing", "status": "granted", "source": "mobile_app", "at": try #require(shown["consents"]?.arrayValue?.first?["at"])],
            ["purpose": "profiling", "status": "withdrawn", "source": "mobile_app", "at": try #require(shown["consents"]?.arrayValue?.last?["at"])],
        ]))
        let events = try #require(shown["life_events"]?.arrayValue)
        #expect(events.count == 1)
        #expect(events.first?["type"] == "home_purchase" && events.first?["confidence"] == 80)
        let notes = try #require(shown["recent_notes"]?.arrayValue)
        #expect(shown["note_count"] == 2)
        #expect(notes.map { $0["id"] } == [.string(secret), .string(note)])
        #expect(notes.first?["text"] == .null && notes.first?["redaction", "by"] == "dpo")
        #expect(notes.last?["text"] == "Asked about a mortgage for a flat in Brno" && notes.last?["revisions"] == 2)
        #expect(shown["recent_contacts"]?.arrayValue?.first?["outcome"] == "dismissed")
        #expect(try await cli.ok(["show", "c-1001", "--json"]).stdout == shown.canonicalText + "\n")

        // The human view: compact, with the essentials.
        let human = try await cli.ok(["show", "c-1001"]).stdout
        for fragment in [
            "Jana (c-1001)", "legal name", "Jana Nováková", "active since", "a-417", "quiet hours: 21:00-08:00 Europe/Prague",
            "contact budget: 3/month", "marketing granted", "profiling withdrawn", "home_purchase (advisor, 80%)",
            "redacted by dpo", "Asked about a mortgage for a flat in Brno", "savings offer", "dismissed",
        ] {
            #expect(human.contains(fragment), "show lacks '\(fragment)':\n\(human)")
        }

        // export --json: every field type, every merge kind, every kind of record.
        let exportData = try await cli.exportBytes()
        let export = try JSONValue(parsing: exportData)
        #expect(export["format"] == "oxpecker-export")
        let customer = try #require(export["customers"]?.arrayValue?.first)
        let exportedFields = try #require(customer["fields"]?.objectValue)
        for (field, _, stored) in Self.fieldValues {
            #expect(exportedFields[field]?["value"] == stored, "exported \(field)")
        }
        let exportedSets = try #require(customer["sets"]?.objectValue)
        let kinds = Set(exportedFields.keys.compactMap { FieldCatalog.descriptor(named: $0) } + exportedSets.keys.compactMap { FieldCatalog.descriptor(named: $0) })
        let allTypes: Set<String> = ["text", "date", "instant", "bool", "choice", "channel_list", "quiet_hours", "contact_budget", "first_transaction", "set"]
        #expect(Set(kinds.map { Self.typeName($0.type) }) == allTypes)
        #expect(Set(kinds.map(\.kind)) == [.register, .guardedRegister, .addWinsSet])
        #expect(customer["sets", "interests"] == ["opera", "sailing"])
        #expect(customer["consent_state"] == ["marketing": "granted", "profiling": "withdrawn"])
        #expect(customer["consents"]?.arrayValue?.count == 3)
        #expect(customer["life_events"]?.arrayValue?.count == 1)
        #expect(customer["contacts"]?.arrayValue?.count == 1)
        let exportedNotes = try #require(customer["notes"]?.arrayValue)
        #expect(exportedNotes.count == 2)
        #expect(exportedNotes.contains { $0["redaction", "by"] == "dpo" })
        #expect(!String(decoding: exportData, as: UTF8.self).contains("private health matter"))

        // export --output writes the same bytes.
        try await cli.ok(["export", "--json", "--output", "state.json"])
        #expect(try Data(contentsOf: folder.url.appendingPathComponent("state.json")) == exportData)

        // The outbox: one canonical JSON change per line, numbered 1…N, and decodable as `Change`.
        let count = try await cli.outboxCount()
        let outbox = try await cli.ok(["outbox", "--json", "--limit", "1000"]).lines
        #expect(outbox.count == count)
        let changes = try outbox.map { try JSONDecoder().decode(Change.self, from: Data($0.utf8)) }
        #expect(changes.map(\.number) == Array(1...Int64(count)))
        #expect(changes.allSatisfy { $0.replica.rawValue == replica })
        #expect(try outbox.allSatisfy { try JSONValue(parsing: $0).canonicalText == $0 })
        let page = try await cli.ok(["outbox", "--json", "--after", "3", "--limit", "2"]).lines
        #expect(page == Array(outbox[3..<5]))
        #expect(!outbox.joined().contains("private health matter"))
    }

    @Test("list filters and pages, search finds names and notes, note list pages, fields lists the catalog")
    func listings() async throws {
        let folder = try TemporaryFolder()
        let cli = folder.oxpecker()
        try await cli.ok(["init"])
        for (id, name, stage, advisor) in [
            ("c-1", "Jana Nováková", "active", "a-1"), ("c-2", "Petr Svoboda", "prospect", "a-1"),
            ("c-3", "Eva Dvořáková", "active", "a-2"),
        ] {
            try await cli.ok(["customer", "add", id, "--legal-name", name, "--stage", stage, "--advisor", advisor, "--scope", "branch:HN01"])
        }
        try await cli.ok(["customer", "add", "c-4", "--legal-name", "Karel Novák", "--scope", "branch:BR02"])
        for index in 1...3 {
            try await cli.ok([
                "note", "add", "c-2", "--text", "Call \(index) about the cottage", "--author", "a-1", "--channel", "phone",
                "--at", "2026-11-2\(index)T10:00:00Z",
            ])
        }

        let ids = { (lines: [String]) in try lines.map { try JSONValue(parsing: $0)["id"]?.stringValue ?? "" } }
        #expect(try ids(try await cli.ok(["list", "--json"]).lines) == ["c-1", "c-2", "c-3", "c-4"])
        #expect(try ids(try await cli.ok(["list", "--json", "--stage", "active"]).lines) == ["c-1", "c-3"])
        #expect(try ids(try await cli.ok(["list", "--json", "--advisor", "a-1", "--scope", "branch:HN01"]).lines) == ["c-1", "c-2"])
        #expect(try ids(try await cli.ok(["list", "--json", "--after", "c-1", "--limit", "2"]).lines) == ["c-2", "c-3"])
        #expect(try await cli.ok(["list"]).stdout.contains("Eva Dvořáková"))

        let hits = try await cli.ok(["search", "novak", "--json"]).lines.map { try JSONValue(parsing: $0) }
        #expect(Set(hits.compactMap { $0["customer"]?.stringValue }) == ["c-1", "c-4"])
        let noteHits = try await cli.ok(["search", "cottage", "--json"]).lines.map { try JSONValue(parsing: $0) }
        #expect(noteHits.count == 3 && noteHits.allSatisfy { $0["customer"] == "c-2" && $0["source"] == "note" })

        let texts = { (lines: [String]) in try lines.map { try JSONValue(parsing: $0)["text"]?.stringValue ?? "" } }
        #expect(try texts(try await cli.ok(["note", "list", "c-2", "--json", "--limit", "2"]).lines) == ["Call 3 about the cottage", "Call 2 about the cottage"])
        #expect(try texts(try await cli.ok(["note", "list", "c-2", "--json", "--limit", "2", "--page", "2"]).lines) == ["Call 1 about the cottage"])
        #expect(try texts(try await cli.ok(["note", "list", "c-2", "--json", "--oldest-first", "--limit", "1"]).lines) == ["Call 1 about the cottage"])

        let fields = try await folder.oxpecker(store: nil).ok(["fields", "--json"]).lines.map { try JSONValue(parsing: $0) }
        #expect(fields.compactMap { $0["name"]?.stringValue } == FieldCatalog.all.map(\.name))
        #expect(fields.first { $0["name"] == "legal_name" }?["kind"] == "guarded_register")
        let table = try await folder.oxpecker(store: nil).ok(["fields"]).stdout
        #expect(table.contains("quiet_hours") && table.contains("add_wins_set"))
    }

    @Test("the store is found by --store, else $OXPECKER_STORE, else ./customers.oxpecker")
    func storeLocation() async throws {
        let folder = try TemporaryFolder()
        let plain = folder.oxpecker(store: nil)
        try await plain.ok(["init"])
        #expect(FileManager.default.fileExists(atPath: folder.path("customers.oxpecker")))
        try await plain.ok(["customer", "add", "c-default"])

        let fromEnvironment = try await plain.run(["init"], environment: ["OXPECKER_STORE": "env.oxpecker"])
        #expect(fromEnvironment.succeeded)
        let added = try await plain.run(["customer", "add", "c-env"], environment: ["OXPECKER_STORE": "env.oxpecker"])
        #expect(added.succeeded)

        #expect(try await plain.ok(["list", "--json"]).lines.count == 1)
        #expect(try await folder.oxpecker(store: "env.oxpecker").ok(["list"]).stdout.contains("c-env"))
        // --store wins over the environment.
        let explicit = try await folder.oxpecker(store: "customers.oxpecker").run(["list"], environment: ["OXPECKER_STORE": "env.oxpecker"])
        #expect(explicit.stdout.contains("c-default") && !explicit.stdout.contains("c-env"))
    }

    @Test("--help documents the exit codes; --version prints a version")
    func help() async throws {
        let folder = try TemporaryFolder()
        let help = try await folder.oxpecker(store: nil).run(["--help"])
        #expect(help.succeeded)
        for code in ["2  usage", "3  not found", "4  invalid input", "5  store problem"] {
            #expect(help.stdout.contains(code))
        }
        #expect(try await folder.oxpecker(store: nil).run(["--version"]).succeeded)
    }

    static func typeName(_ type: FieldType) -> String {
        switch type {
        case .text: "text"
        case .date: "date"
        case .instant: "instant"
        case .bool: "bool"
        case .choice: "choice"
        case .channelList: "channel_list"
        case .quietHours: "quiet_hours"
        case .contactBudget: "contact_budget"
        case .firstTransaction: "first_transaction"
        case .setElement, .scope: "set"
        }
    }
}
