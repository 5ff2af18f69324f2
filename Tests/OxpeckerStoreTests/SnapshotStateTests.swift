import OxpeckerProtocol
import Testing

@testable import OxpeckerStore

/// The state a bootstrap page carries (protocol version 3, ``SnapshotState``):
/// the changes its entries stand for merge back into exactly the state it was
/// taken from, into an empty replica or one that holds part of the history, and
/// its wire form loses nothing. Histories are `CustomerStateTests`' (3–5 real
/// stores writing every kind of change concurrently).
@Suite("Bootstrap by state: a customer's merged state as entries that stand for changes")
struct SnapshotStateTests {
    static let seeds = CustomerStateTests.seeds

    /// A random part of `changes`, as a replica that heard only some of them holds it.
    static func part(of changes: [Change], using random: inout SeededGenerator) -> [Change] {
        let keep = Int.random(in: 1...4, using: &random)
        return changes.filter { _ in Int.random(in: 0..<5, using: &random) < keep }
    }

    @Test("merging the changes a state's entries stand for, in any order, gives that state back", arguments: seeds)
    func standsForItsState(seed: UInt64) async throws {
        let history = try await CustomerStateTests.history(seed: seed)
        var random = SeededGenerator(seed: seed &+ 11)
        // The whole history, and parts of it (revisions before their note, removals of adds not received).
        for trial in 0..<4 {
            let changes = trial == 0 ? history.changes : Self.part(of: history.changes, using: &random)
            var state = CustomerState(customer: "c-1")
            _ = state.merge(changes)
            let entries = state.snapshot.changes(of: "c-1")
            let (outcomes, _) = CustomerState(customer: "c-1").merging(entries.shuffled(using: &random))
            #expect(outcomes.rejected.isEmpty, "seed \(seed), trial \(trial): \(outcomes.rejected)")
            #expect(CustomerStateTests.merged(entries.shuffled(using: &random), using: &random) == state, "seed \(seed), trial \(trial)")
        }
    }

    @Test("a state merged into a replica holding part of the history gives the state of the whole", arguments: seeds)
    func mergesIntoAPartialReplica(seed: UInt64) async throws {
        let history = try await CustomerStateTests.history(seed: seed)
        var random = SeededGenerator(seed: seed &+ 13)
        var whole = CustomerState(customer: "c-1")
        _ = whole.merge(history.changes)
        for trial in 0..<4 {
            // What a store kept after cursor_expired (it heard part of the history, some of it since superseded or removed) ...
            var replica = CustomerStateTests.merged(Self.part(of: history.changes, using: &random), using: &random)
            // ... takes in the new snapshot, which knows everything.
            _ = replica.merge(whole.snapshot.changes(of: "c-1").shuffled(using: &random))
            #expect(replica == whole, "seed \(seed), trial \(trial)")
        }
    }

    @Test("a state keeps one write per register and no text of a redacted note", arguments: seeds.prefix(4))
    func compacted(seed: UInt64) async throws {
        let history = try await CustomerStateTests.history(seed: seed)
        var state = CustomerState(customer: "c-1")
        _ = state.merge(history.changes)
        let snapshot = state.snapshot
        let registerWrites = history.changes.filter { $0.kind == .register }
        #expect(registerWrites.count > snapshot.registers.count, "the history overwrote registers")
        #expect(Set(snapshot.registers.map(\.field)).count == snapshot.registers.count)
        #expect(snapshot.entryCount < history.changes.count)
        for record in snapshot.records where record.entity == .note || record.entity == .noteRevision {
            let note = record.entity == .note ? record.record.rawValue : record.value["note"]?.stringValue ?? ""
            #expect((record.value["text"] == .null) == history.redacted.contains(note), "\(record.entity) \(record.record)")
        }
    }

    @Test("the wire form decodes to the same entries and writes one canonical text", arguments: seeds.prefix(4))
    func wireRoundTrip(seed: UInt64) async throws {
        let history = try await CustomerStateTests.history(seed: seed)
        var state = CustomerState(customer: "c-1")
        _ = state.merge(history.changes)
        let page = BootstrapPage(
            customers: [CustomerSnapshot(customer: "c-1", scopes: ["branch:HN01"], state: state.snapshot)], nextPage: nil,
            resumeCursor: SyncCursor("log.1")!)
        let codec = WireCodec()
        let text = codec.encodeText(page)
        let decoded = try codec.decode(BootstrapPage.self, from: text)
        #expect(codec.encodeText(decoded) == text)
        guard case .state(let wire) = decoded.customers.first?.content else {
            Issue.record("the page decoded without its state")
            return
        }
        #expect(Set(wire.registers) == Set(state.snapshot.registers))
        #expect(Set(wire.guardedWrites) == Set(state.snapshot.guardedWrites))
        #expect(Set(wire.setTags) == Set(state.snapshot.setTags))
        #expect(Set(wire.records) == Set(state.snapshot.records))
    }
}

extension CustomerState {
    /// This state with `changes` merged, and their outcomes.
    fileprivate func merging(_ changes: [Change]) -> (outcomes: [ApplyOutcome], state: CustomerState) {
        var state = self
        let (outcomes, _) = state.merge(changes)
        return (outcomes, state)
    }
}

extension [ApplyOutcome] {
    fileprivate var rejected: [String] {
        compactMap { if case .rejected(let reason) = $0 { reason } else { nil } }
    }
}
