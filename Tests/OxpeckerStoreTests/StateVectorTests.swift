import Foundation
import OxpeckerProtocol
import Testing

@testable import OxpeckerStore

/// `Protocol/vectors/state/`: histories of changes and the canonical export
/// every client must compute from them (`Protocol/state.md`), whatever order,
/// and however often, the changes arrive.
///
/// The histories are made by real stores editing offline and exchanging their
/// outboxes (`Scenario`); `OXPECKER_WRITE_STATE_VECTORS=1 swift test --filter
/// StateVector` writes them anew (ids and stamps change; review the diff).
@Suite("Protocol/ state vectors")
struct StateVectorTests {
    static let folder = protocolFolder.appendingPathComponent("vectors/state")
    static let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasSuffix(".json") }.sorted()

    @Test("every state vector's changes, applied to an empty store in its order, reversed, and shuffled with repeats, export exactly its expected state", arguments: names)
    func vector(name: String) async throws {
        let vector = try JSONValue(parsing: String(decoding: try Data(contentsOf: Self.folder.appendingPathComponent(name)), as: UTF8.self))
        let changes = try #require(vector["changes"]?.arrayValue).map { try WireCodec().decode(Change.self, from: $0.canonicalText) }
        let expected = try #require(vector["export"]).canonicalText + "\n"
        var random = SeededGenerator(seed: UInt64(name.utf8.count))
        var deliveries = [changes, changes.reversed()]
        for _ in 0..<3 {
            var delivery = changes + changes.filter { _ in Bool.random(using: &random) }
            delivery.shuffle(using: &random)
            deliveries.append(delivery)
        }
        let scratch = try TemporaryFolder()
        for (index, delivery) in deliveries.enumerated() {
            let store = try CustomerStore.create(at: scratch.path("s\(index).oxpecker"), options: StoreOptions(durability: .normal))
            let outcomes = try await store.apply(delivery)
            #expect(!outcomes.contains { if case .rejected = $0 { true } else { false } }, "\(name): a change was rejected")
            #expect(try exportText(store) == expected, "\(name), delivery \(index)")
        }
    }

    @Test("the state vectors cover every merge kind, every entity, a cleared field, an emptied set, a redaction and an erasure")
    func coverage() throws {
        var kinds = Set<String>(), entities = Set<String>(), texts: [String] = []
        for name in Self.names {
            let text = String(decoding: try Data(contentsOf: Self.folder.appendingPathComponent(name)), as: UTF8.self)
            texts.append(text)
            for change in try JSONValue(parsing: text)["changes"]?.arrayValue ?? [] {
                kinds.insert(change["kind"]?.stringValue ?? "")
                entities.insert(change["entity"]?.stringValue ?? "")
            }
        }
        #expect(kinds == Set(MergeKind.allCases.map(\.rawValue)))
        #expect(entities == Set(Entity.allCases.map(\.rawValue)))
        #expect(Self.names.count >= 7)
    }

    @Test("every state vector's snapshots are the states a server sends for its history, and load its expected export", arguments: names)
    func snapshots(name: String) async throws {
        let vector = try JSONValue(parsing: String(decoding: try Data(contentsOf: Self.folder.appendingPathComponent(name)), as: UTF8.self))
        let changes = try #require(vector["changes"]?.arrayValue).map { try WireCodec().decode(Change.self, from: $0.canonicalText) }
        let snapshots = try #require(vector["snapshots"], "\(name) has no snapshots")
        #expect(Self.snapshots(of: changes).canonicalText == snapshots.canonicalText, "\(name): the reference server's states differ")
        // A page of every customer's state, decoded as a client would, loads the export.
        let customers = try #require(snapshots.objectValue).keys.sorted().map { id in
            JSONValue.object(["customer": .string(id), "scopes": [], "state": snapshots[id] ?? .null])
        }
        let page = try WireCodec().decode(BootstrapPage.self, from: JSONValue.object(["customers": .array(customers), "resume_cursor": "log.1"]).canonicalText)
        let scratch = try TemporaryFolder()
        let store = try CustomerStore.create(at: scratch.path("s.oxpecker"), options: StoreOptions(durability: .normal))
        let outcomes = try await store.apply(page.customers.flatMap(\.changes))
        #expect(!outcomes.contains { if case .rejected = $0 { true } else { false } }, "\(name): an entry was rejected")
        let expected = try #require(vector["export"]).canonicalText + "\n"
        #expect(try exportText(store) == expected, "\(name)")
    }

    /// Per customer that exists and is not erased, its state as a bootstrap page of version 3 carries it.
    static func snapshots(of changes: [Change]) -> JSONValue {
        var states: [CustomerID: CustomerState] = [:]
        for change in changes { _ = states[change.customer, default: CustomerState(customer: change.customer)].merge([change]) }
        return .object(Dictionary(uniqueKeysWithValues: states.values.filter(\.isPresent).map { ($0.customer.rawValue, $0.snapshot.wireJSON) }))
    }

    /// A vector file: its history one change per line, its export and snapshots canonical.
    static func vectorText(description: String, changes: [Change], export: JSONValue) -> String {
        let lines = changes.map { "    " + WireCodec().encodeText($0) }.joined(separator: ",\n")
        return """
            {
              "description": \(JSONValue.string(description).canonicalText),
              "changes": [
            \(lines)
              ],
              "export": \(export.canonicalText),
              "snapshots": \(snapshots(of: changes).canonicalText)
            }

            """
    }

    @Test("writes the state vectors anew (only with OXPECKER_WRITE_STATE_VECTORS=1)", .enabled(if: ProcessInfo.processInfo.environment["OXPECKER_WRITE_STATE_VECTORS"] == "1"))
    func write() async throws {
        try FileManager.default.createDirectory(at: Self.folder, withIntermediateDirectories: true)
        for scenario in Scenario.all {
            let history = try await scenario.run()
            let text = Self.vectorText(description: scenario.description, changes: history.changes, export: try JSONValue(parsing: history.export))
            try Data(text.utf8).write(to: Self.folder.appendingPathComponent("\(scenario.name).json"))
        }
    }

    @Test("writes the snapshots of the state vectors' histories, keeping the histories (only with OXPECKER_WRITE_STATE_SNAPSHOTS=1)", .enabled(if: ProcessInfo.processInfo.environment["OXPECKER_WRITE_STATE_SNAPSHOTS"] == "1"))
    func writeSnapshots() throws {
        for name in Self.names {
            let url = Self.folder.appendingPathComponent(name)
            let vector = try JSONValue(parsing: String(decoding: try Data(contentsOf: url), as: UTF8.self))
            let changes = try #require(vector["changes"]?.arrayValue).map { try WireCodec().decode(Change.self, from: $0.canonicalText) }
            let text = Self.vectorText(
                description: try #require(vector["description"]?.stringValue), changes: changes, export: try #require(vector["export"]))
            try Data(text.utf8).write(to: url)
        }
    }
}

/// One history: stores that edit offline and exchange their outboxes.
struct Scenario: Sendable {
    let name: String
    let description: String
    let body: @Sendable (ScenarioStores) async throws -> Void

    /// Every change the stores made (and any added), and a fresh store's export of them.
    func run() async throws -> (changes: [Change], export: String) {
        let replicas = try ScenarioStores()
        try await body(replicas)
        try await replicas.exchange()
        // Readable replica ids in place of the stores' random ones (the export is computed from the renamed changes).
        let names = Dictionary(uniqueKeysWithValues: zip(replicas.stores.map(\.replica.rawValue), ["r-laptop-a", "r-laptop-b", "r-laptop-c"]))
        let changes = try await replicas.log().map { change in
            var text = WireCodec().encodeText(change)
            for (random, readable) in names { text = text.replacingOccurrences(of: random, with: readable) }
            return try WireCodec().decode(Change.self, from: text)
        }
        let fresh = try CustomerStore.create(at: replicas.folder.path("fresh.oxpecker"), options: StoreOptions(durability: .normal))
        try await fresh.apply(changes)
        return (changes, try exportText(fresh))
    }

    static let all: [Scenario] = [registers, guarded, sets, notes, consents, records, erasure]

    static let registers = Scenario(
        name: "registers",
        description: """
            Registers, last writer wins: a customer created with a scope (a scopes add, then created_at); concurrent writes \
            of preferred_name at different times (the later HLC wins) and at the same millisecond and counter (the higher \
            replica id wins); a field written then cleared (value null: the field stays, with the clearing stamp); \
            structured values (quiet hours, contact budget, first transaction).
            """
    ) { r in
        try await r.a.write { w in
            try w.createCustomer("c-1001", in: ["branch:HN01"])
            try w.set(.preferredName, to: "Jana", of: "c-1001")
            try w.set(FieldCatalog.field(named: "segment"), to: "long_term_potential", of: "c-1001")
            try w.set(FieldCatalog.field(named: "quiet_hours"), to: ["start": "21:00", "end": "08:00", "time_zone": "Europe/Prague"], of: "c-1001")
            try w.set(FieldCatalog.field(named: "contact_budget"), to: ["max_contacts": 3, "period": "month"], of: "c-1001")
            try w.set(FieldCatalog.field(named: "preferred_channels"), to: ["branch", "email"], of: "c-1001")
        }
        try await r.exchange()
        r.clocks[0].advance(1_000)
        r.clocks[1].advance(2_000)
        try await r.a.write { w in try w.set(.preferredName, to: "Janička", of: "c-1001") }
        try await r.b.write { w in try w.set(.preferredName, to: "Jani", of: "c-1001") }
        try await r.a.write { w in try w.set(FieldCatalog.field(named: "segment"), to: .null, of: "c-1001") }
        try await r.exchange()
        // The same millisecond on both, counters equal: the replica id decides.
        let now = max(r.clocks[0].now, r.clocks[1].now) + 5_000
        r.clocks[0].set(now)
        r.clocks[1].set(now)
        try await r.a.write { w in try w.set(FieldCatalog.field(named: "advisor"), to: "a-417", of: "c-1001") }
        try await r.b.write { w in try w.set(FieldCatalog.field(named: "advisor"), to: "a-502", of: "c-1001") }
        try await r.a.write { w in
            try w.set(FieldCatalog.field(named: "first_transaction"), to: ["date": "2026-11-02", "place": "branch HN01", "what": "savings account", "amount": ["value": "1500.00", "currency": "CZK"]], of: "c-1001")
        }
        try await r.exchange()
    }

    static let guarded = Scenario(
        name: "guarded_register",
        description: """
            Guarded registers: two stores change legal_name concurrently (neither observed the other): both writes stay \
            heads, the field shows the one with the higher HLC meanwhile (a conflict for a person); a third write that \
            observes both heads resolves it. birth_date written once, then replaced by a write that observed it.
            """
    ) { r in
        try await r.a.write { w in
            try w.createCustomer("c-2002", in: ["branch:HN01"])
            try w.set(.legalName, to: "Nguyễn Thị Lan", of: "c-2002")
            try w.set(FieldCatalog.field(named: "birth_date"), to: "1980-02-29", of: "c-2002")
        }
        try await r.exchange()
        r.clocks[1].advance(3_000)
        try await r.a.write { w in try w.set(.legalName, to: "Nguyễn Thị Lan Anh", of: "c-2002") }
        try await r.b.write { w in try w.set(.legalName, to: "Nguyen Thi Lan", of: "c-2002") }
        try await r.a.write { w in try w.set(FieldCatalog.field(named: "birth_date"), to: "1980-03-01", of: "c-2002") }
        try await r.exchange()
        try await r.c.write { w in try w.set(FieldCatalog.field(named: "tax_residence"), to: "VN", of: "c-2002") }
        try await r.exchange()
        r.clocks[2].advance(10_000)
        try await r.c.write { w in try w.set(.legalName, to: "Nguyễn Thị Lan Anh", of: "c-2002") }
        try await r.exchange()
    }

    static let sets = Scenario(
        name: "add_wins_set",
        description: """
            Add-wins sets: an element added on one store while another removes it (the removal did not observe that add): \
            the add wins; an element already present added again (a fresh tag) while another store removes it: the \
            re-add wins; an element removed after every add was seen: gone; a set whose last element is removed is left \
            out of the export; elements sorted by their UTF-8 bytes, each once.
            """
    ) { r in
        try await r.a.write { w in
            try w.createCustomer("c-3003", in: ["branch:HN01", "advisor:a-417"])
            try w.add("vinohrady", to: .interests, of: "c-3003")
            try w.add("sailing", to: .interests, of: "c-3003")
            try w.add("vip", to: .tags, of: "c-3003")
        }
        try await r.exchange()
        // a's removals are later (by HLC) than b's adds they never saw: the adds still win.
        r.clocks[0].advance(3_000)
        r.clocks[1].advance(1_500)
        try await r.a.write { w in
            try w.remove("vinohrady", from: .interests, of: "c-3003")
            try w.remove("opera", from: .interests, of: "c-3003")
            try w.remove("vip", from: .tags, of: "c-3003")
        }
        try await r.b.write { w in
            try w.add("vinohrady", to: .interests, of: "c-3003")  // already there: a confirmation
            try w.add("opera", to: .interests, of: "c-3003")
            try w.add("Čeština", to: .interests, of: "c-3003")
            try w.remove("advisor:a-417", from: .scopes, of: "c-3003")
        }
        try await r.exchange()
        try await r.a.write { w in
            try w.remove("opera", from: .interests, of: "c-3003")
        }
        try await r.exchange()
    }

    static let notes = Scenario(
        name: "notes",
        description: """
            Notes: append-only; a note's first text is its first revision (with the note's own id); revisions made \
            concurrently on two stores both stay, the latest HLC is the current text; a redaction keeps who and when \
            and removes the text of the note and every revision, including a revision made elsewhere that arrives \
            after it; of two concurrent redactions the earlier HLC is kept; a note without sentiment or follow-up \
            exports them as null.
            """
    ) { r in
        let note = try await r.a.write { w in
            try w.createCustomer("c-4004", in: ["branch:HN01"])
            return try w.addNote(
                NewNote(
                    text: "Renovating the flat; asked about a credit line, not investments.", author: "a-417", channel: .branch,
                    at: Instant(millisecondsSince1970: 1_764_000_000_000), sentiment: .positive, followUp: try LocalDate(parsing: "2026-12-01")),
                to: "c-4004")
        }
        let secret = try await r.a.write { w in
            try w.addNote(NewNote(text: "Health: mentioned a diagnosis (written here by mistake)", author: "a-417", channel: .phone, at: Instant(millisecondsSince1970: 1_764_000_001_000)), to: "c-4004")
        }
        try await r.exchange()
        r.clocks[1].advance(2_000)
        try await r.a.write { w in try w.reviseNote(note, text: "Renovating the flat; wants a credit line of 200k.", author: "a-417", at: Instant(millisecondsSince1970: 1_764_000_002_000)) }
        try await r.b.write { w in try w.reviseNote(note, text: "Renovation done; credit line signed.", author: "b-220", at: Instant(millisecondsSince1970: 1_764_000_003_000)) }
        try await r.b.write { w in try w.reviseNote(secret, text: "Health: the diagnosis, in more detail", author: "b-220", at: Instant(millisecondsSince1970: 1_764_000_003_500)) }
        try await r.a.write { w in try w.redactNote(secret, by: "dpo-office", reason: "health data", at: Instant(millisecondsSince1970: 1_764_000_004_000)) }
        try await r.c.write { w in try w.redactNote(secret, by: "a-417", at: Instant(millisecondsSince1970: 1_764_000_004_500)) }
        try await r.exchange()
    }

    static let consents = Scenario(
        name: "consent",
        description: """
            Consent: an event log; per purpose, the decisions no later decision observed are in force, and of those a \
            withdrawal wins. A grant on one store and a withdrawal on another, concurrent: withdrawn (whatever their \
            HLCs). A later grant that observed both: granted. A purpose with one decision; events exported by HLC with \
            their observed lists.
            """
    ) { r in
        try await r.a.write { w in
            try w.createCustomer("c-5005", in: ["branch:HN01"])
            try w.recordConsent(.granted, for: .marketing, source: "branch", at: Instant(millisecondsSince1970: 1_764_000_000_000), of: "c-5005")
        }
        try await r.exchange()
        r.clocks[0].advance(5_000)
        try await r.a.write { w in try w.recordConsent(.granted, for: .profiling, source: "app", at: Instant(millisecondsSince1970: 1_764_000_001_000), of: "c-5005") }
        try await r.b.write { w in try w.recordConsent(.withdrawn, for: .profiling, source: "call_center", at: Instant(millisecondsSince1970: 1_764_000_000_500), of: "c-5005") }
        try await r.a.write { w in try w.recordConsent(.withdrawn, for: .marketing, source: "app", at: Instant(millisecondsSince1970: 1_764_000_001_500), of: "c-5005") }
        try await r.exchange()
        r.clocks[2].advance(20_000)
        try await r.c.write { w in try w.recordConsent(.granted, for: .marketing, source: "branch", at: Instant(millisecondsSince1970: 1_764_000_020_000), of: "c-5005") }
        try await r.exchange()
        // A decision with a status this version does not know, from a newer peer: exported "unknown", in force as a withdrawal.
        let stamp = try HybridTimestamp(wallMillis: 1_764_000_030_000, counter: 0, replica: "r-newer-app")
        r.extra.append(
            Change(
                replica: "r-newer-app", number: 1, hlc: stamp, customer: "c-5005", entity: .consent, field: "data_sharing", record: "ce-newer-1",
                kind: .consent, value: ["status": "paused", "source": "app", "at": "2025-11-24T16:00:30.000Z"]))
    }

    static let records = Scenario(
        name: "life_events_and_contacts",
        description: """
            Life events and the contact log: append-only, a union; each record exported once by HLC with its members \
            (detail null when not given).
            """
    ) { r in
        try await r.a.write { w in
            try w.createCustomer("c-6006", in: ["branch:HN01"])
            try w.recordLifeEvent(NewLifeEvent(type: .renovation, date: try LocalDate(parsing: "2026-10-01"), source: "customer", confidence: 90), of: "c-6006")
        }
        try await r.exchange()
        try await r.b.write { w in
            try w.recordLifeEvent(NewLifeEvent(type: .newChild, date: try LocalDate(parsing: "2026-09-12"), source: "advisor", confidence: 100, detail: "a daughter, Tereza"), of: "c-6006")
            try w.recordContact(NewContact(channel: .sms, purpose: "marketing", topic: "savings offer", outcome: .dismissed, at: Instant(millisecondsSince1970: 1_764_000_000_000)), of: "c-6006")
        }
        try await r.a.write { w in
            try w.recordContact(NewContact(channel: .email, purpose: "service", topic: "card renewal", outcome: .shown, at: Instant(millisecondsSince1970: 1_764_000_000_500)), of: "c-6006")
        }
        try await r.exchange()
    }

    static let erasure = Scenario(
        name: "erasure",
        description: """
            Erasure: absorbing. c-7007 has fields, a note and a consent; the server's erasure change (entity customer, \
            kind erasure, from the server's replica) removes it whole, and every change of it, earlier or later in any \
            delivery order, is dropped: the export has no trace of it. c-7008 is untouched.
            """
    ) { r in
        try await r.a.write { w in
            try w.createCustomer("c-7007", in: ["branch:HN01"])
            try w.set(.legalName, to: "Zdeňka Erased", of: "c-7007")
            try w.addNote(NewNote(text: "Wants to close every account", author: "a-417", channel: .branch, at: Instant(millisecondsSince1970: 1_764_000_000_000)), to: "c-7007")
            try w.createCustomer("c-7008", in: ["branch:HN01"])
            try w.set(.preferredName, to: "Kept", of: "c-7008")
        }
        try await r.exchange()
        let stamp = try HybridTimestamp(wallMillis: r.clocks[0].now + 60_000, counter: 0, replica: "server-hn")
        r.extra.append(
            Change(
                replica: "server-hn", number: 12, hlc: stamp, customer: "c-7007", entity: .customer, field: nil, record: nil, kind: .erasure,
                value: ["at": .string(Instant(millisecondsSince1970: stamp.wallMillis).description), "by": "dpo-office", "reason": "erasure_request"]))
        r.clocks[1].advance(120_000)
        try await r.b.write { w in
            try w.set(.preferredName, to: "Zdenka", of: "c-7007")
            try w.recordConsent(.granted, for: .marketing, source: "app", of: "c-7007")
        }
        try await r.exchange()
    }
}

/// Three stores with their own manual clocks, and what they exchanged.
final class ScenarioStores: Sendable {
    let folder: TemporaryFolder
    let clocks: [ManualClock]
    let stores: [CustomerStore]
    private let extraChanges = Mutex<[Change]>([])
    private let collected = Mutex<[Change]>([])
    /// Per store, the last outbox number handed on.
    private let handedOn = Mutex<[Int64]>([0, 0, 0])

    var a: CustomerStore { stores[0] }
    var b: CustomerStore { stores[1] }
    var c: CustomerStore { stores[2] }
    /// Changes made outside the stores (a server's erasure), part of the history.
    var extra: [Change] {
        get { extraChanges.withLock { $0 } }
        set { extraChanges.withLock { $0 = newValue } }
    }

    init() throws {
        let folder = try TemporaryFolder()
        let clocks = [ManualClock(1_764_000_000_000), ManualClock(1_764_000_000_000), ManualClock(1_764_000_000_000)]
        stores = try (0..<3).map { index in
            try CustomerStore.create(at: folder.path("r\(index).oxpecker"), options: StoreOptions(clock: clocks[index].wallClock, durability: .normal))
        }
        self.folder = folder
        self.clocks = clocks
    }

    /// Every store hands on what it made since the last exchange, then receives every change
    /// made so far (its own included, as a server echoes them).
    func exchange() async throws {
        for (index, store) in stores.enumerated() {
            let after = handedOn.withLock { $0[index] }
            let fresh = try await store.read { try $0.outbox(after: after, limit: 100_000) }
            handedOn.withLock { $0[index] = fresh.last?.number ?? after }
            collected.withLock { $0 += fresh }
        }
        let everything = try await log()
        for store in stores { try await store.apply(everything) }
    }

    /// Every change handed on so far, as made (a purge or a redaction applied later does not
    /// change what was sent), interleaved by HLC, then the extra ones.
    func log() async throws -> [Change] {
        collected.withLock { $0 }.sorted { $0.hlc < $1.hlc } + extra
    }
}

extension ManualClock {
    var now: Int64 { wallClock.now() }
}

/// The repository's `Protocol/` folder.
let protocolFolder: URL = {
    var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    while url.path != "/" {
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.appendingPathComponent("Protocol") }
        url.deleteLastPathComponent()
    }
    return URL(fileURLWithPath: "Protocol")
}()

import Synchronization
