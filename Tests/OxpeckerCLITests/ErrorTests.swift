import Foundation
import GRDB
import OxpeckerProtocol
import OxpeckerStore
import Testing

/// What a person can get wrong: each mistake gets a clear message on standard
/// error, a documented non-zero exit status, and changes nothing.
@Suite("CLI errors")
struct ErrorTests {
    /// A mistake: the command, the exit status it must give, and words its message must contain.
    struct Mistake: CustomTestStringConvertible, Sendable {
        let name: String
        let arguments: [String]
        let status: Int32
        let message: [String]
        var testDescription: String { name }
    }

    static let mistakes: [Mistake] = [
        Mistake(name: "unknown customer", arguments: ["customer", "set", "c-404", "stage", "active"], status: 3, message: ["unknown customer 'c-404'"]),
        Mistake(name: "note for an unknown customer", arguments: ["note", "add", "c-404", "--text", "hi", "--author", "a-1", "--channel", "phone"], status: 3, message: ["unknown customer 'c-404'"]),
        Mistake(name: "show an unknown customer", arguments: ["show", "c-404"], status: 3, message: ["unknown customer 'c-404'"]),
        Mistake(name: "edit an unknown note", arguments: ["note", "edit", "n-404", "--text", "x", "--author", "a-1"], status: 3, message: ["unknown note 'n-404'"]),
        Mistake(name: "bad date in a field", arguments: ["customer", "set", "c-1", "birth_date", "1984-02-30"], status: 4, message: ["birth_date", "1984-02-30"]),
        Mistake(name: "bad date in an option", arguments: ["life-event", "c-1", "--type", "marriage", "--date", "2026-13-01", "--source", "customer"], status: 4, message: ["--date", "2026-13-01", "YYYY-MM-DD"]),
        Mistake(name: "bad instant", arguments: ["contact", "c-1", "--channel", "sms", "--purpose", "service", "--topic", "t", "--outcome", "sent", "--at", "yesterday"], status: 4, message: ["--at", "yesterday"]),
        Mistake(name: "bad choice in a field", arguments: ["customer", "set", "c-1", "stage", "sleeping"], status: 4, message: ["'sleeping' is not one of: prospect, onboarding, active, dormant, churned"]),
        Mistake(name: "bad channel", arguments: ["contact", "c-1", "--channel", "pigeon", "--purpose", "service", "--topic", "t", "--outcome", "sent"], status: 4, message: ["'pigeon' is not one of: phone, sms, email, push, in_app, branch, video, post"]),
        Mistake(name: "bad consent purpose", arguments: ["consent", "c-1", "--purpose", "spam", "--grant", "--source", "app"], status: 4, message: ["'spam' is not one of: marketing"]),
        Mistake(name: "bad life event type", arguments: ["life-event", "c-1", "--type", "lottery_win", "--date", "2026-01-01", "--source", "customer"], status: 4, message: ["'lottery_win' is not one of", "home_purchase"]),
        Mistake(name: "confidence out of range", arguments: ["life-event", "c-1", "--type", "marriage", "--date", "2026-01-01", "--source", "customer", "--confidence", "101"], status: 4, message: ["101 is not 0 to 100"]),
        Mistake(name: "unknown field", arguments: ["customer", "set", "c-1", "favourite_colour", "blue"], status: 4, message: ["unknown field 'favourite_colour'", "oxpecker fields"]),
        Mistake(name: "a set given a single value", arguments: ["customer", "set", "c-1", "interests", "golf"], status: 4, message: ["interests", "add-to"]),
        Mistake(name: "bad quiet hours", arguments: ["customer", "set", "c-1", "quiet_hours", "21:00-08:00 Mars/Olympus"], status: 4, message: ["Mars/Olympus"]),
        Mistake(name: "bad contact budget", arguments: ["customer", "set", "c-1", "contact_budget", "3/fortnight"], status: 4, message: ["'fortnight' is not one of: day, week, month, quarter"]),
        Mistake(name: "bad first transaction", arguments: ["customer", "set", "c-1", "first_transaction", "{\"amount\":12.5}"], status: 4, message: ["first_transaction"]),
        Mistake(name: "invalid customer id", arguments: ["customer", "add", "bad id!"], status: 4, message: ["invalid customer id 'bad id!'"]),
        Mistake(
            name: "a new customer with one bad field writes nothing",
            arguments: ["customer", "add", "c-2", "--legal-name", "Petr", "--stage", "active", "--set", "birth_date=yesterday"],
            status: 4, message: ["birth_date"]),
        Mistake(name: "an existing customer", arguments: ["customer", "add", "c-1"], status: 6, message: ["customer 'c-1' already exists"]),
        Mistake(name: "a missing argument", arguments: ["customer", "set", "c-1"], status: 2, message: ["error:", "Usage"]),
        Mistake(name: "an unknown command", arguments: ["frobnicate"], status: 2, message: ["error:"]),
        Mistake(name: "grant and withdraw together", arguments: ["consent", "c-1", "--purpose", "marketing", "--grant", "--withdraw", "--source", "app"], status: 2, message: ["error:"]),
        Mistake(name: "a value and --clear together", arguments: ["customer", "set", "c-1", "stage", "active", "--clear"], status: 2, message: ["not both"]),
    ]

    @Test("a mistake exits non-zero with a clear message and changes nothing", arguments: mistakes)
    func mistake(_ mistake: Mistake) async throws {
        let folder = try TemporaryFolder()
        let cli = folder.oxpecker()
        try await cli.ok(["init"])
        try await cli.ok(["customer", "add", "c-1", "--legal-name", "Jana Nováková", "--stage", "prospect"])
        let exportBefore = try await cli.exportBytes()
        let outboxBefore = try await cli.outboxCount()

        let result = try await cli.run(mistake.arguments)

        #expect(!result.signaled, "crashed: \(result.stderr)")
        #expect(result.status == mistake.status, "exit status; stderr: \(result.stderr)")
        #expect(result.stderr.hasPrefix("error: "), "\(result.stderr)")
        for words in mistake.message {
            #expect(result.stderr.contains(words), "stderr lacks '\(words)': \(result.stderr)")
        }
        #expect(result.stdout.isEmpty)
        #expect(try await cli.exportBytes() == exportBefore)
        #expect(try await cli.outboxCount() == outboxBefore)
    }

    @Test("a redacted note cannot be edited, and the refusal changes nothing")
    func redactedNote() async throws {
        let folder = try TemporaryFolder()
        let cli = folder.oxpecker()
        try await cli.ok(["init"])
        try await cli.ok(["customer", "add", "c-1"])
        let note = try await cli.ok(["note", "add", "c-1", "--text", "x", "--author", "a", "--channel", "phone"]).lines.first ?? ""
        try await cli.ok(["note", "redact", note, "--by", "dpo"])
        let before = try await cli.exportBytes()
        let result = try await cli.run(["note", "edit", note, "--text", "y", "--author", "a"])
        #expect(result.status == 6 && result.stderr.contains("was redacted"))
        #expect(try await cli.exportBytes() == before)
    }

    /// A store file that is not usable, and how to make it.
    struct BadStore: CustomTestStringConvertible, Sendable {
        let name: String
        let message: String
        let make: @Sendable (String) throws -> Void
        var testDescription: String { name }
    }

    static let badStores: [BadStore] = [
        BadStore(name: "missing store", message: "no Oxpecker store at", make: { _ in }),
        BadStore(name: "not an SQLite file", message: "not an SQLite database", make: { path in
            try Data("name,stage\nJana,active\n".utf8).write(to: URL(fileURLWithPath: path))
        }),
        BadStore(name: "an SQLite file of another application", message: "another application", make: { path in
            let queue = try DatabaseQueue(path: path)
            try queue.write { try $0.execute(sql: "CREATE TABLE photos (id INTEGER PRIMARY KEY, title TEXT); INSERT INTO photos (title) VALUES ('cat')") }
            try queue.close()
        }),
        BadStore(name: "a store of a newer schema", message: "upgrade Oxpecker", make: { path in
            try CustomerStore.create(at: path).close()
            let queue = try DatabaseQueue(path: path)
            try queue.write { db in
                try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')")
                try db.execute(sql: "PRAGMA user_version = 99")
            }
            try queue.close()
        }),
        BadStore(name: "a directory", message: "is a directory", make: { path in
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        }),
    ]

    @Test("a store file that cannot be used is refused with exit status 5 and left as it was", arguments: badStores)
    func badStore(_ bad: BadStore) async throws {
        let folder = try TemporaryFolder()
        let path = folder.path("test.oxpecker")
        try bad.make(path)
        let before = Self.snapshot(path)
        let walBefore = FileManager.default.fileExists(atPath: path + "-wal")
        let cli = folder.oxpecker()
        for arguments in [["show", "c-1"], ["customer", "add", "c-1"], ["export", "--json"], ["outbox"], ["list"]] {
            let result = try await cli.run(arguments)
            #expect(!result.signaled)
            #expect(result.status == 5, "\(arguments): \(result.stderr)")
            #expect(result.stderr.hasPrefix("error: ") && result.stderr.contains(bad.message), "\(arguments): \(result.stderr)")
            #expect(result.stdout.isEmpty)
        }
        #expect(Self.snapshot(path) == before)
        // Opening a WAL database read-only may leave an empty -wal beside it; never any content.
        if !walBefore { #expect((try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0 == 0) }
    }

    @Test("init refuses to overwrite an existing file")
    func initOverExisting() async throws {
        let folder = try TemporaryFolder()
        let path = folder.path("test.oxpecker")
        try Data("precious".utf8).write(to: URL(fileURLWithPath: path))
        let result = try await folder.oxpecker().run(["init"])
        #expect(result.status == 5 && result.stderr.contains("already exists"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data("precious".utf8))
    }

    @Test("a bad import file is refused before anything is written, naming the line")
    func badImport() async throws {
        let folder = try TemporaryFolder()
        let cli = folder.oxpecker()
        try await cli.ok(["init"])
        let lines = [
            #"{"id":"c-1","fields":{"legal_name":"Jana"}}"#,
            #"{"id":"c-2","fields":{"stage":"asleep"}}"#,
        ]
        try lines.joined(separator: "\n").write(toFile: folder.path("bad.ndjson"), atomically: true, encoding: .utf8)
        let result = try await cli.run(["import", "bad.ndjson"])
        #expect(result.status == 4)
        #expect(result.stderr.contains("bad.ndjson line 2") && result.stderr.contains("'asleep' is not one of"), "\(result.stderr)")
        #expect(try await cli.outboxCount() == 0)

        let missing = try await cli.run(["import", "nope.ndjson"])
        #expect(missing.status == 4 && missing.stderr.contains("cannot read 'nope.ndjson'"))
    }

    /// The file's bytes, or nil if there is none (a directory counts as empty bytes).
    static func snapshot(_ path: String) -> Data? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        return isDirectory.boolValue ? Data() : FileManager.default.contents(atPath: path)
    }
}
