import OxpeckerProtocol
import Testing

@testable import OxpeckerStore

/// Property tests of the merge engine itself, ``CustomerState/merge(_:)``, the
/// one copy of the merge rules every path runs: histories of every kind of
/// change, made concurrently on 3–5 replicas (re-adds of present elements,
/// removes, guarded conflicts, revisions and redactions, consents, life events,
/// contacts; an erasure in a test of its own), merged into fresh states in random
/// orders and batches, with duplicates and with drops delivered late, always
/// give one state; no note is lost; a redacted note keeps no text.
@Suite("The merge engine: one state whatever the order, grouping and repetition")
struct CustomerStateTests {
    /// Seeds of the random runs; a seed that once failed stays in this list.
    static let seeds: [UInt64] = [1, 2, 3, 5, 8, 13, 42, 2026]

    /// A history: every change of every replica, and the notes written and redacted.
    struct History {
        var changes: [Change] = []
        var notes: Set<String> = []
        var redacted: Set<String> = []
    }

    /// Replicas are real stores (their writers make the changes a device makes,
    /// `observed` lists included); they see each other's changes only now and then.
    static func history(seed: UInt64) async throws -> History {
        var random = SeededGenerator(seed: seed)
        let folder = try TemporaryFolder()
        let count = Int.random(in: 3...5, using: &random)
        let clocks = (0..<count).map { _ in ManualClock(1_764_000_000_000 + Int64.random(in: -600_000...600_000, using: &random)) }
        let stores = try (0..<count).map { index in
            try CustomerStore.create(at: folder.path("r\(index).oxpecker"), options: StoreOptions(clock: clocks[index].wallClock, durability: .normal))
        }
        let customer: CustomerID = "c-1"
        try await stores[0].write { try $0.createCustomer(customer, in: ["branch:HN01"]) }
        var history = History()
        var sent = [Int64](repeating: 0, count: count)
        func collect(_ index: Int) async throws {
            let after = sent[index]
            let fresh = try await stores[index].read { try $0.outbox(after: after, limit: 100_000) }
            history.changes += fresh
            sent[index] += Int64(fresh.count)
        }
        try await collect(0)
        for store in stores.dropFirst() { try await store.apply(history.changes) }
        let elements = ["golf", "sailing", "opera"]
        for _ in 0..<160 {
            let index = Int.random(in: 0..<count, using: &random)
            clocks[index].advance(Int64.random(in: -2_000...5_000, using: &random))
            let roll = Int.random(in: 0..<14, using: &random)
            let pick = Int.random(in: 0..<1000, using: &random)
            let store = stores[index]
            let open = try await store.read { try $0.notes(of: customer, limit: 1000) }.filter { $0.redaction == nil }.map(\.id)
            let note: RecordID? = try await store.write { writer in
                switch roll {
                case 0: try writer.set(.preferredName, to: "Hương \(pick % 5)", of: customer)
                case 1: try writer.set(.legalName, to: "Nguyễn Thị \(pick % 3)", of: customer)
                case 2: try writer.set(.stage, to: Stage.allCases[pick % Stage.allCases.count], of: customer)
                case 3, 4: try writer.add(elements[pick % 3], to: .interests, of: customer)  // often a re-add of a present element
                case 5: try writer.remove(elements[pick % 3], from: .interests, of: customer)
                case 6: return try writer.addNote(NewNote(text: "said \(pick)", author: "a-\(index)", channel: .branch), to: customer)
                case 7: if !open.isEmpty { try writer.reviseNote(open[pick % open.count], text: "edit \(pick)", author: "a-\(index)") }
                case 8: if !open.isEmpty, pick % 3 == 0 { try writer.redactNote(open[pick % open.count], by: "a-\(index)") }
                case 9: try writer.recordConsent(pick % 2 == 0 ? .granted : .withdrawn, for: .marketing, source: "s\(index)", of: customer)
                case 10:
                    try writer.recordLifeEvent(
                        NewLifeEvent(type: .renovation, date: try LocalDate(parsing: "2026-01-0\(pick % 9 + 1)"), source: "s\(index)"), of: customer)
                case 11: try writer.recordContact(NewContact(channel: .sms, purpose: "service", topic: "t\(pick)", outcome: .shown), of: customer)
                case 12: try writer.set(.birthDate, to: try LocalDate(parsing: "1980-02-1\(pick % 9)"), of: customer)
                default: try writer.set(FieldCatalog.field(named: "do_not_contact"), to: .bool(pick % 2 == 0), of: customer)
                }
                return nil
            }
            if let note { history.notes.insert(note.rawValue) }
            if roll == 8, !open.isEmpty, pick % 3 == 0 { history.redacted.insert(open[pick % open.count].rawValue) }
            if Int.random(in: 0..<4, using: &random) == 0 {
                // Gossip: this replica sends what it has and hears a random part of the rest.
                try await collect(index)
                try await store.apply(history.changes.filter { _ in Bool.random(using: &random) }.shuffled(using: &random))
            }
        }
        for index in 0..<count { try await collect(index) }
        return history
    }

    /// Merges `changes` into a fresh state in random batches.
    static func merged(_ changes: [Change], using random: inout SeededGenerator) -> CustomerState {
        var state = CustomerState(customer: "c-1")
        var rest = changes[...]
        while !rest.isEmpty {
            let size = Int.random(in: 1...max(1, rest.count / 3), using: &random)
            _ = state.merge(Array(rest.prefix(size)))
            rest = rest.dropFirst(size)
        }
        return state
    }

    @Test("random order, batches, duplicates and late drops all reach the state of one in-order merge", arguments: seeds)
    func convergence(seed: UInt64) async throws {
        let history = try await Self.history(seed: seed)
        var random = SeededGenerator(seed: seed &+ 1)
        var inOrder = CustomerState(customer: "c-1")
        let (outcomes, _) = inOrder.merge(history.changes)
        #expect(!outcomes.contains { if case .rejected = $0 { true } else { false } }, "every change of a store is valid")
        let expected = inOrder
        for trial in 0..<6 {
            var delivery = history.changes.shuffled(using: &random)
            // Duplicates, some of them right away and some much later.
            delivery += delivery.filter { _ in Int.random(in: 0..<4, using: &random) == 0 }
            delivery.shuffle(using: &random)
            // Drops: a random part is lost and comes only after the rest was merged.
            let lost = delivery.filter { _ in Int.random(in: 0..<5, using: &random) == 0 }
            let lostKeys = Set(lost.map { "\($0.replica)#\($0.number)" })
            var state = Self.merged(delivery.filter { !lostKeys.contains("\($0.replica)#\($0.number)") }, using: &random)
            _ = state.merge(lost)
            #expect(state == expected, "seed \(seed), trial \(trial)")
            // Idempotent: everything once more changes nothing and says so.
            let (repeated, delta) = state.merge(history.changes)
            #expect(delta.isEmpty && repeated.allSatisfy { $0 == .unchanged }, "seed \(seed), trial \(trial): a repeat changed the state")
        }
        // No note lost; a redacted note keeps no text in any revision.
        #expect(Set(expected.notes.keys) == history.notes)
        for (id, revision) in expected.revisions {
            #expect((revision.text == nil) == history.redacted.contains(revision.note), "revision \(id) of note \(revision.note)")
        }
        #expect(Set(expected.redactions.keys) == history.redacted)
    }

    @Test("two replicas that merged disjoint halves reach the full state by merging each other's (associative)", arguments: seeds.prefix(4))
    func halves(seed: UInt64) async throws {
        let history = try await Self.history(seed: seed)
        var random = SeededGenerator(seed: seed &+ 7)
        let shuffled = history.changes.shuffled(using: &random)
        let cut = Int.random(in: 0...shuffled.count, using: &random)
        var left = Self.merged(Array(shuffled[..<cut]), using: &random)
        var right = Self.merged(Array(shuffled[cut...]), using: &random)
        _ = left.merge(Array(shuffled[cut...]))
        _ = right.merge(Array(shuffled[..<cut]))
        var whole = CustomerState(customer: "c-1")
        _ = whole.merge(history.changes)
        #expect(left == whole)
        #expect(right == whole)
    }

    @Test("an erasure absorbs every change of the customer, before or after it, in any order", arguments: seeds.prefix(4))
    func erasureAbsorbs(seed: UInt64) async throws {
        var history = try await Self.history(seed: seed)
        var random = SeededGenerator(seed: seed &+ 3)
        let erasure = Change(
            replica: "admin", number: 1, hlc: try HybridTimestamp(wallMillis: 1_764_000_100_000, counter: 0, replica: "admin"), customer: "c-1",
            entity: .customer, field: nil, record: nil, kind: .erasure, value: .object([:]), observed: [])
        history.changes.insert(erasure, at: Int.random(in: 0...history.changes.count, using: &random))
        for _ in 0..<4 {
            let state = Self.merged(history.changes.shuffled(using: &random), using: &random)
            var expected = CustomerState(customer: "c-1")
            expected.erasure = erasure.hlc
            #expect(state == expected)
        }
    }

    @Test("a re-add of a present element carries a tag a concurrent remove did not see: the element stays (add wins)")
    func reAddWinsOverConcurrentRemove() throws {
        let stamp = { (millis: Int64, replica: ReplicaID) in try HybridTimestamp(wallMillis: millis, counter: 0, replica: replica) }
        func setChange(_ op: String, _ hlc: HybridTimestamp, number: Int64, observed: [HybridTimestamp] = []) -> Change {
            Change(
                replica: hlc.replica, number: number, hlc: hlc, customer: "c-1", entity: .profile, field: "interests", record: nil,
                kind: .addWinsSet, value: ["element": "vinohrady", "op": .string(op)], observed: observed)
        }
        let first = setChange("add", try stamp(1_000, "a"), number: 1)
        let remove = setChange("remove", try stamp(2_000, "a"), number: 2, observed: [first.hlc])
        let confirm = setChange("add", try stamp(1_500, "b"), number: 1)
        for order in [[first, remove, confirm], [first, confirm, remove], [confirm, remove, first], [remove, confirm, first]] {
            var state = CustomerState(customer: "c-1")
            _ = state.merge(order)
            #expect(state.sets["interests"]?.elements == ["vinohrady"])
        }
        // Without the confirmation the removal wins.
        var state = CustomerState(customer: "c-1")
        _ = state.merge([remove, first])
        #expect(state.sets["interests"]?.elements == [])
    }
}
