import Foundation
import OxpeckerProtocol
import Testing

@testable import OxpeckerStore

@Suite("Protocol/data-model.md is the catalogs' document")
struct DataModelDocumentTests {
    static let path = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Protocol/data-model.md")

    @Test("the committed document is the one rendered from FieldCatalog and RecordCatalog")
    func committedDocumentIsCurrent() throws {
        let rendered = DataModelDocument.render()
        if ProcessInfo.processInfo.environment["OXPECKER_REGENERATE_DOCS"] == "1" {
            try rendered.write(to: Self.path, atomically: true, encoding: .utf8)
        }
        let committed = (try? String(contentsOf: Self.path, encoding: .utf8)) ?? ""
        #expect(
            committed == rendered,
            "Protocol/data-model.md differs from the catalogs; regenerate it with: \(DataModelDocument.regenerateCommand)")
    }

    @Test("every field and every record entity is in the document")
    func everythingIsDocumented() {
        let document = DataModelDocument.render()
        for field in FieldCatalog.all { #expect(document.contains("| `\(field.name)` |"), "\(field.name)") }
        for entity in Entity.allCases { #expect(document.contains("`\(entity.rawValue)`"), "\(entity.rawValue)") }
    }

    @Test("every entity but profile and customer is a record entity of the catalog")
    func everyRecordEntityIsDeclared() {
        let declared = Set(RecordCatalog.all.map(\.entity))
        #expect(declared == Set(Entity.allCases).subtracting([.profile, .customer]))
        #expect(declared.count == RecordCatalog.all.count, "an entity declared twice")
    }

    // The catalog is what ValidatedChange checks: the document says no more and no less.

    /// A value for `form` that ValidatedChange must accept; `longest` gives text its maximum length.
    static func sample(_ form: MemberForm, longest: Bool = true) -> JSONValue {
        switch form {
        case .text(let maxLength): .string(longest ? String(repeating: "é", count: maxLength) : "x")
        case .identifier: "n-1"
        case .instant: "2026-11-24T15:31:50.123Z"
        case .date: "2026-02-28"
        case .integer(let range): .integer(range.upperBound)
        }
    }

    /// A change of `record` whose value holds `members`.
    static func change(_ record: RecordDescriptor, _ members: [String: JSONValue], kind: MergeKind? = nil, field: String? = "marketing") throws -> Change {
        Change(
            replica: "r-1", number: 1, hlc: try HybridTimestamp(wallMillis: 1_764_000_000_000, counter: 0, replica: "r-1"),
            customer: "c-1", entity: record.entity, field: record.field == nil ? nil : field, record: "rec-1",
            kind: kind ?? record.kind, value: .object(members))
    }

    static func isAccepted(_ change: Change) -> Bool {
        if case .success = ValidatedChange.check(change) { return true }
        return false
    }

    /// Whether ValidatedChange accepts a change of `record` whose value holds `members`.
    static func accepts(_ record: RecordDescriptor, _ members: [String: JSONValue], kind: MergeKind? = nil, field: String? = "marketing") throws -> Bool {
        isAccepted(try change(record, members, kind: kind, field: field))
    }

    @Test("a value made from the catalog is valid data: every member at its limit, or the required ones only", arguments: RecordCatalog.all)
    func catalogValuesAreAccepted(_ record: RecordDescriptor) throws {
        let all = Dictionary(uniqueKeysWithValues: record.members.map { ($0.name, Self.sample($0.form)) })
        let full = try Self.change(record, all)
        #expect(Self.isAccepted(full), "\(record.entity.rawValue): \(ValidatedChange.check(full))")
        let required = Dictionary(uniqueKeysWithValues: record.members.filter(\.isRequired).map { ($0.name, Self.sample($0.form, longest: false)) })
        #expect(try Self.accepts(record, required), "\(record.entity.rawValue) with its required members only")
        var withNulls = required
        for member in record.members where !member.isRequired { withNulls[member.name] = .null }
        #expect(try Self.accepts(record, withNulls), "\(record.entity.rawValue): null optional members")
    }

    @Test("a value that breaks the catalog is refused: a required member missing, text too long, a number out of range", arguments: RecordCatalog.all)
    func catalogViolationsAreRefused(_ record: RecordDescriptor) throws {
        let all = Dictionary(uniqueKeysWithValues: record.members.map { ($0.name, Self.sample($0.form, longest: false)) })
        for member in record.members {
            var broken = all
            if member.isRequired {
                broken[member.name] = nil
                #expect(try Self.accepts(record, broken) == false, "\(record.entity.rawValue) without \(member.name)")
            }
            broken = all
            switch member.form {
            case .text(let maxLength): broken[member.name] = .string(String(repeating: "é", count: maxLength + 1))
            case .identifier: broken[member.name] = "not an id"
            case .instant: broken[member.name] = "2026-11-24T15:31:50.1234Z"
            case .date: broken[member.name] = "2026-02-30"
            case .integer(let range): broken[member.name] = .integer(range.upperBound + 1)
            }
            #expect(try Self.accepts(record, broken) == false, "\(record.entity.rawValue) with a bad \(member.name)")
        }
        let otherKind: MergeKind = record.kind == .consent ? .appendOnlyLog : .consent
        #expect(try Self.accepts(record, all, kind: otherKind) == false, "\(record.entity.rawValue) as \(otherKind.rawValue)")
        if record.field != nil {
            #expect(try Self.accepts(record, all, field: nil) == false, "\(record.entity.rawValue) without field")
        }
    }

    @Test("a scope element is kind:name, as a token names it; other set elements are any short text")
    func scopeElements() throws {
        let scopes = try #require(FieldCatalog.descriptor(named: "scopes"))
        #expect(scopes.type == .scope)
        for good in ["branch:HN01", "advisor:a-417", "segment:private"] {
            #expect(throws: Never.self) { try scopes.type.validate(.string(good), field: "scopes") }
        }
        for bad in ["HN01", "branch HN01", "Branch:HN01", "branch:", ":HN01", "branch:HN 01", ""] {
            #expect(throws: StoreError.self, "'\(bad)'") { try scopes.type.validate(.string(bad), field: "scopes") }
        }
        let change = Change(
            replica: "r-1", number: 1, hlc: try HybridTimestamp(wallMillis: 1_764_000_000_000, counter: 0, replica: "r-1"),
            customer: "c-1", entity: .profile, field: "scopes", record: nil, kind: .addWinsSet,
            value: ["element": "not a scope", "op": "add"])
        #expect(!Self.isAccepted(change), "a pushed scope that no token could name")
    }
}
