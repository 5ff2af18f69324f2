import Foundation
import OxpeckerProtocol
import Testing

/// `export --json`: canonical, stable bytes.
@Suite("CLI export")
struct ExportTests {
    /// The same commands, given to any store.
    static func populate(_ cli: OxpeckerBinary) async throws {
        try await cli.ok(["init"])
        for index in [3, 1, 2] {
            try await cli.ok([
                "customer", "add", "c-\(index)", "--legal-name", "Customer \(index) \"Ünïcödé\"\\", "--stage", "active",
                "--scope", "branch:HN0\(index)", "--set", "quiet_hours=22:00-07:00 Europe/Prague", "--add", "tags=z", "--add", "tags=a",
            ])
            try await cli.ok([
                "note", "add", "c-\(index)", "--text", "line one\nline two\t/ tab", "--author", "a-1", "--channel", "phone",
                "--at", "2026-11-2\(index)T10:00:00Z",
            ])
            try await cli.ok(["consent", "c-\(index)", "--purpose", "marketing", "--grant", "--source", "app", "--at", "2026-11-01T00:00:00Z"])
            try await cli.ok([
                "life-event", "c-\(index)", "--type", "relocation", "--date", "2026-0\(index)-01", "--source", "customer",
            ])
        }
    }

    @Test("exporting the same store twice gives identical bytes, and they are canonical JSON")
    func stableAndCanonical() async throws {
        let folder = try TemporaryFolder()
        let cli = folder.oxpecker()
        try await Self.populate(cli)
        let first = try await cli.exportBytes()
        let second = try await cli.exportBytes()
        #expect(first == second)

        let text = String(decoding: first, as: UTF8.self)
        #expect(text.hasSuffix("}\n"))
        let parsed = try JSONValue(parsing: first)
        #expect(parsed.canonicalText + "\n" == text)
        #expect(parsed["customers"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["c-1", "c-2", "c-3"])

        try await cli.ok(["export", "--json", "--output", "a.json"])
        try await cli.ok(["export", "--json", "--output", "a.json"])
        #expect(FileManager.default.contents(atPath: folder.path("a.json")) == first)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.url.path).filter { $0.hasSuffix(".partial") }
        #expect(leftovers.isEmpty)
    }

    @Test("two stores given the same commands export the same state, but for timestamps and record ids")
    func sameCommandsSameState() async throws {
        let folder = try TemporaryFolder()
        let one = folder.oxpecker(store: "one.oxpecker")
        let two = folder.oxpecker(store: "two.oxpecker")
        try await Self.populate(one)
        try await Self.populate(two)
        let first = try JSONValue(parsing: try await one.exportBytes())
        let second = try JSONValue(parsing: try await two.exportBytes())
        #expect(first != second)
        #expect(Self.withoutStamps(first).canonicalText == Self.withoutStamps(second).canonicalText)
    }

    @Test("export to a folder that does not exist fails cleanly")
    func outputFolderMissing() async throws {
        let folder = try TemporaryFolder()
        let cli = folder.oxpecker()
        try await cli.ok(["init"])
        let result = try await cli.run(["export", "--json", "--output", "no/such/folder/x.json"])
        #expect(result.status == 1 && result.stderr.hasPrefix("error: cannot write"), "\(result.stderr)")
    }

    /// The export without what differs between replicas making the same changes:
    /// hybrid timestamps, record ids, and the times records were written.
    static func withoutStamps(_ value: JSONValue) -> JSONValue {
        switch value {
        case .array(let elements):
            return .array(elements.map(withoutStamps))
        case .object(var members):
            for key in ["hlc", "observed", "at", "note"] { members.removeValue(forKey: key) }
            if members["id"]?.stringValue?.hasPrefix("c-") != true { members.removeValue(forKey: "id") }
            if members["created_at"] != nil, members["legal_name"] != nil { members.removeValue(forKey: "created_at") }
            return .object(members.mapValues(withoutStamps))
        default:
            return value
        }
    }
}
