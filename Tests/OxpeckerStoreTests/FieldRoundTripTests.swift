import Foundation
import OxpeckerProtocol
import Testing

@testable import OxpeckerStore

@Suite("Every field kind round-trips")
struct FieldRoundTripTests {
    static let singleFields = FieldCatalog.all.filter { !$0.isSet }
    static let setFields = FieldCatalog.all.filter(\.isSet)

    @Test("the catalog declares each field once, with a merge kind, and typed keys agree with it")
    func catalogIsConsistent() {
        #expect(Set(FieldCatalog.all.map(\.name)).count == FieldCatalog.all.count)
        #expect(ProfileField.legalName.descriptor.kind == .guardedRegister)
        #expect(ProfileField.birthDate.descriptor.kind == .guardedRegister)
        #expect(ProfileField.taxResidence.descriptor.kind == .guardedRegister)
        #expect(ProfileField.preferredName.descriptor.kind == .register)
        #expect(ProfileSet.scopes.descriptor.kind == .addWinsSet)
        #expect(Self.setFields.map(\.name).sorted() == ["interests", "scopes", "tags"])
    }

    @Test("a single-valued field keeps its exact value, in the profile and in the export", arguments: singleFields)
    func singleField(_ field: FieldDescriptor) async throws {
        let folder = try TemporaryFolder()
        let store = try makeStore(in: folder)
        for variant in [0, 1] {
            let value = FieldSamples.value(for: field.type, variant: variant)
            try await store.write { writer in
                if variant == 0 { try writer.createCustomer("c-1") }
                try writer.set(field, to: value, of: "c-1")
            }
            let profile = try await store.read { try $0.profile(of: "c-1") }
            #expect(profile.fields[field.name]?.value == value)
            let exported = try exportedCustomer(store)
            #expect(exported["fields"]?[field.name]?["value"] == value)
        }
    }

    @Test("a set field keeps its elements, in the profile and in the export", arguments: setFields)
    func setField(_ field: FieldDescriptor) async throws {
        let folder = try TemporaryFolder()
        let store = try makeStore(in: folder)
        // A scope is kind:name; other sets take any short text.
        let (kept, other, removed) = field.type == .scope
            ? ("branch:HN01", "segment:zurich-sailing", "a:b")
            : ("branch:HN01", "Zürich sailing", "a")
        try await store.write { writer in
            try writer.createCustomer("c-1")
            for element in [kept, other, removed] { try writer.add(element, toSetNamed: field, of: "c-1") }
            try writer.remove(removed, fromSetNamed: field, of: "c-1")
        }
        let profile = try await store.read { try $0.profile(of: "c-1") }
        #expect(profile.sets[field.name] == [other, kept].sorted())
        #expect(try exportedCustomer(store)["sets"]?[field.name] == .array([other, kept].sorted().map { .string($0) }))
    }

    @Test("notes, revisions, redactions, consents, life events and contacts round-trip")
    func records() async throws {
        let folder = try TemporaryFolder()
        let store = try makeStore(in: folder)
        let at = try Instant(parsing: "2026-11-20T09:15:00.250Z")
        let (kept, redacted) = try await store.write { writer in
            try writer.createCustomer("c-1")
            let kept = try writer.addNote(
                NewNote(text: "Renovating the flat; asked about a credit line.", author: "a-417", channel: .branch, at: at,
                        sentiment: .positive, followUp: try LocalDate(parsing: "2026-12-01")), to: "c-1")
            try writer.reviseNote(kept, text: "Renovating the flat; needs liquidity, not investments.", author: "a-417")
            let redacted = try writer.addNote(NewNote(text: "Secret health detail", author: "a-417", channel: .phone), to: "c-1")
            try writer.redactNote(redacted, by: "a-417", reason: "recorded by mistake")
            try writer.recordConsent(.granted, for: .marketing, source: "app", of: "c-1")
            try writer.recordConsent(.withdrawn, for: .marketing, source: "branch", of: "c-1")
            try writer.recordConsent(.granted, for: .profiling, source: "app", of: "c-1")
            try writer.recordLifeEvent(NewLifeEvent(type: .renovation, date: try LocalDate(parsing: "2026-10-01"), source: "customer", confidence: 90, detail: "kitchen"), of: "c-1")
            try writer.recordContact(NewContact(channel: .sms, purpose: "marketing", topic: "mortgage offer", outcome: .dismissed, at: at), of: "c-1")
            return (kept, redacted)
        }
        let profile = try await store.read { try $0.profile(of: "c-1") }
        #expect(profile.noteCount == 2)
        let notes = Dictionary(uniqueKeysWithValues: profile.recentNotes.map { ($0.id, $0) })
        #expect(notes[kept]?.text == "Renovating the flat; needs liquidity, not investments.")
        #expect(notes[kept]?.revisionCount == 2)
        #expect(notes[kept]?.at == at)
        #expect(notes[kept]?.sentiment == .positive)
        #expect(notes[redacted]?.text == nil)
        #expect(notes[redacted]?.redaction?.reason == "recorded by mistake")
        #expect(notes[redacted]?.author == "a-417")
        #expect(profile.consents.map(\.purpose) == ["marketing", "profiling"])
        #expect(profile.consents.map(\.status) == [.withdrawn, .granted])
        #expect(profile.lifeEvents.first?.type == .renovation)
        #expect(profile.lifeEvents.first?.confidence == 90)
        #expect(profile.recentContacts.first?.outcome == .dismissed)

        let exported = try exportedCustomer(store)
        #expect(exported["notes"]?.arrayValue?.count == 2)
        #expect(exported["consent_state"] == ["marketing": "withdrawn", "profiling": "granted"])
        #expect(exported["life_events"]?.arrayValue?.first?["detail"] == "kitchen")
        #expect(exported["contacts"]?.arrayValue?.first?["topic"] == "mortgage offer")
        let text = try exportText(store)
        #expect(!text.contains("Secret health detail"), "a redacted text never appears in the export")
        let outbox = try await store.read { try $0.outbox() }
        #expect(!outbox.map(\.value.canonicalText).joined().contains("Secret health detail"), "nor in the outbox")
    }
}

func exportText(_ store: CustomerStore) throws -> String {
    var text = ""
    try store.readNow { try $0.exportJSON { text += $0 } }
    return text
}

func exportedCustomer(_ store: CustomerStore, at index: Int = 0) throws -> JSONValue {
    let document = try JSONValue(parsing: exportText(store))
    return document["customers"]?.arrayValue?[index] ?? .null
}
