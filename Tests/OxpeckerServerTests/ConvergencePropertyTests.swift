import Foundation
import OxpeckerProtocol
import OxpeckerServer
import OxpeckerStore
@testable import OxpeckerSync
import Synchronization
import Testing

/// The property at the heart of the product, through the real server: 3–5
/// devices (one with its clock hours behind) make random edits of every kind offline, sync at random moments
/// over a transport that loses answers, drops requests and answers 503 (so
/// pushes are duplicated, retried, or fail and are retried in a later sync);
/// after a final full sync every device's export is byte-identical to every
/// other's and to the server's state, and no note is lost.
@Suite("Convergence through the server", .serialized)
struct ConvergencePropertyTests {
    static let seeds: [UInt64] = [11, 23, 2026]

    @Test("random edits, random syncs with faults: every replica and the server end identical", arguments: ServerBackend.all, seeds)
    func converge(backend: ServerBackend, seed: UInt64) async throws {
        try await LiveServer.run(backend) { server in
            var random = SplitMix(seed: seed)
            let count = Int.random(in: 3...5, using: &random)
            // Device clocks up to two minutes off the server's (within its tolerated skew), and
            // the last device three hours behind: it still converges, its writes simply count as older.
            let stores = try (0..<count).map { index in
                let offset = index == count - 1 ? -3 * 3_600_000 : Int64.random(in: -120_000...120_000, using: &random)
                return try CustomerStore.create(
                    at: server.folder.path("device-\(index).oxpecker"),
                    options: StoreOptions(clock: WallClock { WallClock.system.now() + offset }, durability: .normal))
            }
            let customers: [CustomerID] = ["c-1", "c-2", "c-3"]
            try await stores[0].write { writer in for id in customers { try writer.createCustomer(id, in: [testScope]) } }
            let retry = RetryPolicy(maximumAttempts: 3, maximumElapsed: .seconds(20), initialDelay: .milliseconds(1), maximumDelay: .milliseconds(2))
            func client(_ store: CustomerStore, faults: Bool, seed: UInt64) throws -> SyncClient {
                let transport = FaultyTransport(try HTTPSyncTransport(server: server.url)) { path, index in
                    guard faults else { return nil }
                    var dice = SplitMix(seed: seed &+ UInt64(index) &* 7919 &+ UInt64(path.utf8.count))
                    switch Int.random(in: 0..<10, using: &dice) {
                    case 0: return .loseAnswer
                    case 1: return .dropRequest
                    case 2: return .answer(status: 503, code: "unavailable", retryAfter: nil)
                    default: return nil
                    }
                }
                var configuration = SyncConfiguration(server: server.url, token: server.token, retry: retry)
                configuration.pushBatchSize = 7
                configuration.pullPageSize = 9
                return SyncClient(store: store, configuration: configuration, transport: transport)
            }
            let written = NoteLedger()
            for step in 0..<160 {
                let index = Int.random(in: 0..<count, using: &random)
                let store = stores[index]
                if Int.random(in: 0..<6, using: &random) == 0 {
                    // A sync that may fail half-way: what it did is kept, the rest is retried later.
                    _ = try? await client(store, faults: true, seed: seed &* 1000 &+ UInt64(step)).sync()
                    continue
                }
                let customer = customers.randomElement(using: &random)!
                let roll = Int.random(in: 0..<12, using: &random)
                let pick = Int.random(in: 0..<1000, using: &random)
                guard try await store.read({ try $0.exists(customer) }) else { continue }
                let live = try await store.read { try $0.notes(of: customer, limit: 1000) }.filter { $0.redaction == nil }.map(\.id)
                try await store.write { writer in
                    switch roll {
                    case 0: try writer.set(.preferredName, to: "name \(pick % 5)", of: customer)
                    case 1: try writer.set(.stage, to: Stage.allCases[pick % Stage.allCases.count], of: customer)
                    case 2: try writer.set(.legalName, to: "Legal \(pick % 3)", of: customer)
                    case 3: try writer.add(["golf", "sailing", "opera"][pick % 3], to: .interests, of: customer)
                    case 4: try writer.remove(["golf", "sailing", "opera"][pick % 3], from: .interests, of: customer)
                    case 5: written.add(try writer.addNote(NewNote(text: "note \(pick)", author: "a-\(index)", channel: .branch), to: customer))
                    case 6: if !live.isEmpty { try writer.reviseNote(live[pick % live.count], text: "edit \(pick)", author: "a-\(index)") }
                    case 7: if !live.isEmpty, pick % 4 == 0, try writer.redactNote(live[pick % live.count], by: "a-\(index)") { written.redact(live[pick % live.count]) }
                    case 8: try writer.recordConsent(pick % 2 == 0 ? .granted : .withdrawn, for: .marketing, source: "d\(index)", of: customer)
                    case 9: try writer.recordLifeEvent(NewLifeEvent(type: .newChild, date: try LocalDate(parsing: "2026-0\(pick % 9 + 1)-01"), source: "d\(index)"), of: customer)
                    case 10: try writer.recordContact(NewContact(channel: .email, purpose: "service", topic: "t\(pick)", outcome: .shown), of: customer)
                    default: try writer.set(.doNotContact, to: pick % 2 == 0, of: customer)
                    }
                }
            }
            // The final full sync, without faults: everyone pushes, then everyone pulls everything.
            for _ in 0..<2 {
                for store in stores { _ = try await client(store, faults: false, seed: 0).sync() }
            }
            let serverState = try await server.storage.exportState()
            for (index, store) in stores.enumerated() {
                #expect(try await store.read { try $0.outboxCount() } == 0, "device \(index) has pushed everything (seed \(seed))")
                #expect(try await export(store) == serverState, "device \(index) equals the server (seed \(seed))")
            }
            let notes = try await stores[0].read { reader in try customers.flatMap { try reader.notes(of: $0, limit: 10_000) } }
            #expect(Set(notes.map(\.id)) == written.all, "no note lost (seed \(seed))")
            #expect(Set(notes.filter { $0.text != nil }.map(\.id)) == written.all.subtracting(written.redacted))
        }
    }
}

/// The notes written during a test, and those redacted.
final class NoteLedger: Sendable {
    private let state = Mutex((all: Set<RecordID>(), redacted: Set<RecordID>()))
    func add(_ id: RecordID) { state.withLock { _ = $0.all.insert(id) } }
    func redact(_ id: RecordID) { state.withLock { _ = $0.redacted.insert(id) } }
    var all: Set<RecordID> { state.withLock { $0.all } }
    var redacted: Set<RecordID> { state.withLock { $0.redacted } }
}

/// A small deterministic generator (SplitMix64): a seed replays a run.
struct SplitMix: RandomNumberGenerator, Sendable {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
