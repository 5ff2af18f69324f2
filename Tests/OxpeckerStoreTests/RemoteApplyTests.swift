import OxpeckerProtocol
import Testing

@testable import OxpeckerStore

@Suite("Applying remote changes")
struct RemoteApplyTests {
    /// Several stores edit the same customers offline; changes travel as a sync
    /// server would relay them, in random subsets, orders and repeats; after
    /// everyone has everything, every store exports the same bytes.
    @Test("random edits on 3–5 stores converge whatever the delivery order, duplicates and delays", arguments: [1, 2, 3, 4, 5, 6, 17, 2026] as [UInt64])
    func convergence(seed: UInt64) async throws {
        var random = SeededGenerator(seed: seed)
        let folder = try TemporaryFolder()
        let count = Int.random(in: 3...5, using: &random)
        let clocks = (0..<count).map { _ in ManualClock(1_764_000_000_000 + Int64.random(in: -3_600_000...3_600_000, using: &random)) }
        let stores = try (0..<count).map { index in
            try CustomerStore.create(at: folder.path("s\(index).oxpecker"), options: StoreOptions(clock: clocks[index].wallClock, durability: .normal))
        }
        let customers: [CustomerID] = ["c-0", "c-1", "c-2"]
        try await stores[0].write { writer in for id in customers { try writer.createCustomer(id) } }
        var log: [Change] = try await stores[0].read { try $0.outbox(limit: 100_000) }
        var pushed = [Int64](repeating: 0, count: count)
        pushed[0] = Int64(log.count)
        for store in stores.dropFirst() { try await store.apply(log) }
        var notesWritten: [RecordID] = []
        var notesRedacted: Set<RecordID> = []

        for _ in 0..<150 {
            let index = Int.random(in: 0..<count, using: &random)
            let store = stores[index]
            clocks[index].advance(Int64.random(in: -2_000...5_000, using: &random))
            let customer = customers.randomElement(using: &random)!
            let roll = Int.random(in: 0..<12, using: &random)
            let pick = Int.random(in: 0..<1000, using: &random)
            let knownNotes = try await store.read { try $0.notes(of: customer, limit: 1000) }.filter { $0.redaction == nil }.map(\.id)
            let created: RecordID? = try await store.write { writer in
                switch roll {
                case 0: try writer.set(.preferredName, to: "name \(pick % 7)", of: customer)
                case 1: try writer.set(.stage, to: Stage.allCases[pick % Stage.allCases.count], of: customer)
                case 2: try writer.set(.legalName, to: "Legal \(pick % 3)", of: customer)
                case 3: try writer.add(["golf", "sailing", "opera"][pick % 3], to: .interests, of: customer)
                case 4: try writer.remove(["golf", "sailing", "opera"][pick % 3], from: .interests, of: customer)
                case 5: return try writer.addNote(NewNote(text: "note \(pick)", author: "a-\(index)", channel: .branch), to: customer)
                case 6: if !knownNotes.isEmpty { try writer.reviseNote(knownNotes[pick % knownNotes.count], text: "edit \(pick)", author: "a-\(index)") }
                case 7: if !knownNotes.isEmpty, pick % 3 == 0 { try writer.redactNote(knownNotes[pick % knownNotes.count], by: "a-\(index)") }
                case 8: try writer.recordConsent(pick % 2 == 0 ? .granted : .withdrawn, for: pick % 4 == 0 ? .profiling : .marketing, source: "s\(index)", of: customer)
                case 9: try writer.recordLifeEvent(NewLifeEvent(type: .renovation, date: try LocalDate(parsing: "2026-01-0\(pick % 9 + 1)"), source: "s\(index)"), of: customer)
                case 10: try writer.recordContact(NewContact(channel: .sms, purpose: "service", topic: "t\(pick)", outcome: .shown), of: customer)
                default: try writer.set(FieldCatalog.field(named: "do_not_contact"), to: .bool(pick % 2 == 0), of: customer)
                }
                return nil
            }
            if let created { notesWritten.append(created) }
            if roll == 7, !knownNotes.isEmpty, pick % 3 == 0 { notesRedacted.insert(knownNotes[pick % knownNotes.count]) }

            // Now and then a store pushes what it has not pushed yet, and pulls a random part of the log.
            if Int.random(in: 0..<4, using: &random) == 0 {
                let after = pushed[index]
                let fresh = try await store.read { try $0.outbox(after: after, limit: 100_000) }
                log += fresh
                pushed[index] += Int64(fresh.count)
                var delivery = log.filter { _ in Int.random(in: 0..<3, using: &random) > 0 }
                delivery += delivery.filter { _ in Bool.random(using: &random) }
                delivery.shuffle(using: &random)
                try await store.apply(delivery)
            }
        }
        for (index, store) in stores.enumerated() {
            let after = pushed[index]
            log += try await store.read { try $0.outbox(after: after, limit: 100_000) }
        }
        for store in stores {
            try await store.apply(log.shuffled(using: &random))
        }
        let exports = try stores.map { try exportText($0) }
        for (index, export) in exports.enumerated().dropFirst() {
            if export != exports[0] {
                let left = try JSONValue(parsing: exports[0]), right = try JSONValue(parsing: export)
                Issue.record("store \(index) differs from store 0 (seed \(seed)): \(firstDifference(left, right))")
            }
        }
        // No note lost: every note written is there; the text of every one not redacted is there.
        let allNotes = try await stores[0].read { reader in try customers.flatMap { try reader.notes(of: $0, limit: 10_000) } }
        #expect(Set(allNotes.map(\.id)) == Set(notesWritten))
        #expect(allNotes.filter { $0.text != nil }.count == notesWritten.count - notesRedacted.count)
        let conflicts = try await stores[0].read { try $0.conflicts() }
        let elsewhere = try await stores[count - 1].read { try $0.conflicts() }
        #expect(conflicts == elsewhere)
    }

    @Test("an advisor confirming a present element wins over a removal made concurrently elsewhere (add wins)")
    func confirmedElementSurvivesConcurrentRemove() async throws {
        let folder = try TemporaryFolder()
        let a = try makeStore(in: folder)
        let b = try CustomerStore.create(at: folder.path("b.oxpecker"), options: StoreOptions(durability: .normal))
        try await a.write { writer in
            try writer.createCustomer("c-1003")
            try writer.add("vinohrady", to: .interests, of: "c-1003")
        }
        try await b.apply(try await a.read { try $0.outbox() })
        let shared = try await a.read { try $0.outbox() }.count
        // Offline, both at once: A removes the interest, B confirms it.
        try await a.write { try $0.remove("vinohrady", from: .interests, of: "c-1003") }
        try await b.write { try $0.add("vinohrady", to: .interests, of: "c-1003") }
        let fromA = try await a.read { try $0.outbox() }.dropFirst(shared)
        let fromB = try await b.read { try $0.outbox() }
        #expect(fromB.count == 1, "the confirmation is a change to sync")
        try await a.apply(fromB)
        try await b.apply(Array(fromA))
        for store in [a, b] {
            #expect(try await store.read { try $0.profile(of: "c-1003") }.sets["interests"] == ["vinohrady"])
        }
        #expect(try exportText(a) == exportText(b))
    }

    @Test("an older remote write never replaces a newer local one that is not pushed yet")
    func localNewerWins() async throws {
        let folder = try TemporaryFolder()
        let old = ManualClock(1_000_000_000_000)
        let new = ManualClock(2_000_000_000_000)
        let a = try makeStore(clock: old, in: folder)
        let b = try CustomerStore.create(at: folder.path("b.oxpecker"), options: StoreOptions(clock: new.wallClock, durability: .normal))
        try await a.write { writer in
            try writer.createCustomer("c-1")
            try writer.set(.advisor, to: "a-old", of: "c-1")
        }
        try await b.apply(try await a.read { try $0.outbox() }.filter { $0.field == "created_at" })
        try await b.write { try $0.set(.advisor, to: "a-new", of: "c-1") }
        let outcomes = try await b.apply(try await a.read { try $0.outbox() })
        #expect(outcomes.last == .unchanged)
        #expect(try await b.read { try $0.profile(of: "c-1") }[.advisor] == "a-new")
        // And the next local write on b is later than anything it has seen.
        try await a.write { try $0.set(.segment, to: "x", of: "c-1") }
        let seen = try await a.read { try $0.outbox() }.last!.hlc
        try await b.apply(try await a.read { try $0.outbox() })
        try await b.write { try $0.set(.segment, to: "y", of: "c-1") }
        #expect(try await b.read { try $0.outbox() }.last!.hlc > seen)
    }

    @Test("concurrent edits of a guarded field are kept as a conflict until a person resolves it; the resolution syncs")
    func guardedConflict() async throws {
        let folder = try TemporaryFolder()
        let a = try makeStore(in: folder)
        let b = try CustomerStore.create(at: folder.path("b.oxpecker"), options: StoreOptions(durability: .normal))
        try await a.write { try $0.createCustomer("c-1") }
        try await b.apply(try await a.read { try $0.outbox() })
        try await a.write { try $0.set(.legalName, to: "Jana Nováková", of: "c-1") }
        try await b.write { try $0.set(.legalName, to: "Jana Novakova", of: "c-1") }
        try await a.apply(try await b.read { try $0.outbox() })
        try await b.apply(try await a.read { try $0.outbox() })
        let conflicts = try await a.read { try $0.conflicts() }
        #expect(conflicts.count == 1)
        #expect(Set(conflicts.first?.candidates.map(\.value) ?? []) == ["Jana Nováková", "Jana Novakova"])
        #expect(try await b.read { try $0.conflicts() } == conflicts)

        let before = try await a.read { try $0.outboxCount() }
        try await a.write { try $0.set(.legalName, to: "Jana Nováková", of: "c-1") }  // the person chooses
        let resolution = try await a.read { try $0.outbox(after: Int64(before)) }
        #expect(resolution.count == 1 && Set(resolution[0].observed) == Set(conflicts[0].candidates.map(\.hlc)))
        try await b.apply(resolution)
        #expect(try await a.read { try $0.conflicts() }.isEmpty)
        #expect(try await b.read { try $0.conflicts() }.isEmpty)
        #expect(try await b.read { try $0.profile(of: "c-1") }[.legalName] == "Jana Nováková")
    }

    @Test("an erasure removes the customer and absorbs every later or concurrent change")
    func erasure() async throws {
        let folder = try TemporaryFolder()
        let a = try makeStore(in: folder)
        try await a.write { writer in
            try writer.createCustomer("c-1")
            try writer.set(.preferredName, to: "Jana", of: "c-1")
            try writer.addNote(NewNote(text: "private", author: "a", channel: .phone), to: "c-1")
        }
        let server: ReplicaID = "server"
        let stamp = try HybridTimestamp(wallMillis: 9_000_000_000_000, counter: 0, replica: server)
        let erase = Change(replica: server, number: 1, hlc: stamp, customer: "c-1", entity: .customer, field: nil, record: nil, kind: .erasure, value: .null)
        #expect(try await a.apply([erase, erase]) == [.applied, .unchanged])
        let late = Change(
            replica: server, number: 2, hlc: try HybridTimestamp(wallMillis: 9_000_000_000_001, counter: 0, replica: server), customer: "c-1",
            entity: .profile, field: "preferred_name", record: nil, kind: .register, value: "Back")
        #expect(try await a.apply([late]) == [.unchanged])
        #expect(!(try exportText(a).contains("c-1")))
        #expect(try await a.read { try $0.search("private") }.isEmpty)
        #expect(!(try await a.read { try $0.outbox() }.map(\.value.canonicalText).joined().contains("private")))
        await #expect(throws: StoreError.customerErased("c-1")) {
            try await a.write { try $0.set(.advisor, to: "a-1", of: "c-1") }
        }
    }

    @Test("an invalid remote change is rejected with a reason and leaves no trace; the rest of the batch applies")
    func invalidChange() async throws {
        let folder = try TemporaryFolder()
        let a = try makeStore(in: folder)
        let peer: ReplicaID = "peer"
        func stamp(_ n: Int64) throws -> HybridTimestamp { try HybridTimestamp(wallMillis: 1_764_000_000_000 + n, counter: 0, replica: peer) }
        let bad = [
            Change(replica: peer, number: 1, hlc: try stamp(1), customer: "c-new", entity: .profile, field: "stage", record: nil, kind: .register, value: "sleeping"),
            Change(replica: peer, number: 2, hlc: try stamp(2), customer: "c-new", entity: .profile, field: "no_such_field", record: nil, kind: .register, value: "x"),
            Change(replica: peer, number: 3, hlc: try stamp(3), customer: "c-new", entity: .profile, field: "legal_name", record: nil, kind: .register, value: "x"),
            Change(replica: peer, number: 4, hlc: try stamp(4), customer: "c-new", entity: .note, field: nil, record: "n-1", kind: .appendOnlyLog, value: ["text": "no author"]),
        ]
        let good = Change(replica: peer, number: 5, hlc: try stamp(5), customer: "c-ok", entity: .profile, field: "advisor", record: nil, kind: .register, value: "a-1")
        let outcomes = try await a.apply(bad + [good])
        #expect(outcomes.prefix(4).allSatisfy { if case .rejected = $0 { true } else { false } })
        #expect(outcomes.last == .applied)
        let ids = try await a.read { try $0.customers(matching: CustomerFilter()) }.map(\.id)
        #expect(ids == ["c-ok"], "a rejected change creates no customer")
    }

    @Test("an invalid remote change about a known customer is rejected and writes nothing, whatever its entity")
    func invalidChangeOfKnownCustomer() async throws {
        // apply() runs a savepoint only for a customer's first change: every other change must be refused before any write.
        let folder = try TemporaryFolder()
        let a = try makeStore(in: folder)
        let peer: ReplicaID = "peer"
        func stamp(_ n: Int64) throws -> HybridTimestamp { try HybridTimestamp(wallMillis: 1_764_000_000_000 + n, counter: 0, replica: peer) }
        func change(_ n: Int64, _ entity: Entity, _ field: String?, _ record: RecordID?, _ kind: MergeKind, _ value: JSONValue) throws -> Change {
            Change(replica: peer, number: n, hlc: try stamp(n), customer: "c-1", entity: entity, field: field, record: record, kind: kind, value: value)
        }
        let at: JSONValue = "2026-11-20T10:00:00.000Z"
        let note: JSONValue = ["text": "Asked about savings", "author": "a-1", "at": at, "channel": "branch"]
        _ = try await a.apply([
            try change(1, .profile, "advisor", nil, .register, "a-1"), try change(2, .note, nil, "n-1", .appendOnlyLog, note),
        ])
        let export = { try await a.read { reader in var text = ""; try reader.exportJSON { text += $0 }; return text } }
        let before = try await export()
        let invalid = [
            try change(3, .profile, "stage", nil, .register, "sleeping"),
            try change(4, .profile, "interests", nil, .addWinsSet, ["element": "chess", "op": "toggle"]),
            try change(5, .profile, "legal_name", nil, .guardedRegister, .integer(7)),
            try change(6, .note, nil, "n-2", .appendOnlyLog, ["text": "no author", "at": at, "channel": "branch"]),
            try change(7, .noteRevision, nil, "r-1", .appendOnlyLog, ["note": "n-1", "text": "edited", "author": "a-1"]),
            try change(8, .noteRedaction, nil, "n-1", .appendOnlyLog, ["at": at]),
            try change(9, .consent, "marketing", "k-1", .consent, ["status": "granted", "at": at]),
            try change(10, .lifeEvent, nil, "e-1", .appendOnlyLog,
                       ["type": "home_purchase", "date": "2026-03-01", "source": "advisor", "confidence": 200]),
            try change(11, .contact, nil, "t-1", .appendOnlyLog, ["channel": "sms", "purpose": "marketing", "topic": "savings", "at": at]),
        ]
        let outcomes = try await a.apply(invalid)
        for (change, outcome) in zip(invalid, outcomes) {
            #expect({ if case .rejected = outcome { true } else { false } }(), "\(change.entity) change \(change.number): \(outcome)")
        }
        #expect(try await export() == before)
    }
}

/// Where two JSON values first differ, as a path and the two values.
func firstDifference(_ left: JSONValue, _ right: JSONValue, path: String = "$") -> String {
    switch (left, right) {
    case (.object(let a), .object(let b)):
        for key in Set(a.keys).union(b.keys).sorted() where a[key] != b[key] {
            return firstDifference(a[key] ?? .null, b[key] ?? .null, path: path + "." + key)
        }
    case (.array(let a), .array(let b)) where a.count == b.count:
        for (index, pair) in zip(a, b).enumerated() where pair.0 != pair.1 {
            return firstDifference(pair.0, pair.1, path: path + "[\(index)]")
        }
    default: break
    }
    return "\(path): \(left.canonicalText) vs \(right.canonicalText)"
}
