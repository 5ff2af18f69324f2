import Foundation
import Logging
import OxpeckerProtocol
import OxpeckerStore
import OxpeckerSync
import Synchronization

/// One simulated device: a real store file, opened only while the device is
/// busy (so 500 devices hold few files and little memory), edited in offline
/// sessions and synced at random moments with one server instance.
struct SimulatedDevice: Sendable {
    let index: Int
    let path: String
    let configuration: SyncConfiguration
    let transport: any SyncTransport
    let logger: Logger

    /// Outbox changes this device wrote (each must reach the server's log exactly once).
    private(set) var written = 0
    /// The customers this device created itself.
    private var ownCustomers: [CustomerID] = []
    private(set) var replica: ReplicaID?

    init(index: Int, path: String, configuration: SyncConfiguration, transport: any SyncTransport, logger: Logger) {
        self.index = index
        self.path = path
        self.configuration = configuration
        self.transport = transport
        self.logger = logger
    }

    /// Opens the store (creating it the first time), runs `body`, closes it. Opening
    /// and closing block on file I/O, so they run on a dispatch queue, not on the
    /// few threads that run every device's tasks.
    func withStore<T>(_ body: (CustomerStore) async throws -> T) async throws -> T {
        let path = self.path
        let store = try await Self.offPool {
            let options = StoreOptions(durability: .normal)
            return FileManager.default.fileExists(atPath: path)
                ? try CustomerStore.open(at: path, options: options) : try CustomerStore.create(at: path, options: options)
        }
        do {
            let result = try await body(store)
            try await Self.offPool { try store.close() }
            return result
        } catch {
            try? await Self.offPool { try store.close() }
            throw error
        }
    }

    private static func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }

    /// One sync through the measuring transport; a sync that gives up is counted, not fatal.
    mutating func sync(recorder: RequestRecorder) async throws {
        let (configuration, transport, logger) = (self.configuration, self.transport, self.logger)
        replica = try await withStore { store in
            let client = SyncClient(store: store, configuration: configuration, transport: transport, logger: logger)
            do {
                let summary = try await client.sync()
                recorder.recordSync(pushed: summary.pushed, pulled: summary.pulled + summary.bootstrappedChanges)
                for rejection in summary.rejections { recorder.recordError("push rejected: \(rejection.reason.rawValue)") }
            } catch let error as SyncError {
                recorder.recordError("sync failed: \(Self.kind(of: error))")
            }
            return store.replica
        }
    }

    /// Creates the shared pool of customers (customer i in `scopes[i % scopes.count]`, with a name and a stage) on this device.
    mutating func seed(_ pool: [CustomerID], scopes: [String]) async throws {
        let (count, replica) = try await withStore { store in
            let count = try await store.write { writer in
                for (index, id) in pool.enumerated() {
                    try writer.createCustomer(id, in: [scopes[index % scopes.count]])
                    try writer.set(.legalName, to: "Pool Customer \(index)", of: id)
                    try writer.set(.stage, to: Stage.allCases[index % Stage.allCases.count], of: id)
                }
                return writer.changeCount
            }
            return (count, store.replica)
        }
        written += Int(count)
        self.replica = replica
    }

    /// An offline edit session of `operations` random edits, in one transaction,
    /// on the shared pool of customers and on customers this device created.
    mutating func edit(operations: Int, pool: [CustomerID], scope: String, random: inout SplitMix) async throws {
        let plan = (0..<operations).map { _ in Edit.random(using: &random) }
        let picks = (0..<operations).map { _ in Int.random(in: 0..<1_000_000, using: &random) }
        let own = ownCustomers
        let index = self.index
        let created = ownCustomers.count
        let (count, newCustomers, replica): (Int64, [CustomerID], ReplicaID) = try await withStore { store in
            let result = try await store.write { writer -> (Int64, [CustomerID]) in
                var made: [CustomerID] = []
                for (edit, pick) in zip(plan, picks) {
                    let candidates = own + made
                    let customer = candidates.isEmpty || pick % 4 != 0 ? pool[pick % pool.count] : candidates[pick % candidates.count]
                    switch edit {
                    case .createCustomer:
                        let id = CustomerID(unchecked: "d\(index)-\(created + made.count)")
                        try writer.createCustomer(id, in: [scope])
                        try writer.set(.legalName, to: "Device \(index) Customer \(created + made.count)", of: id)
                        made.append(id)
                    case .preferredName: try writer.set(.preferredName, to: "Name \(pick % 97)", of: customer)
                    case .stage: try writer.set(.stage, to: Stage.allCases[pick % Stage.allCases.count], of: customer)
                    case .segment: try writer.set(.segment, to: "segment_\(pick % 7)", of: customer)
                    case .doNotContact: try writer.set(.doNotContact, to: pick % 2 == 0, of: customer)
                    case .legalName: try writer.set(.legalName, to: "Legal Name \(pick % 13)", of: customer)
                    case .interest:
                        let interest = ["golf", "sailing", "opera", "cycling"][pick % 4]
                        if pick % 3 == 0 { try writer.remove(interest, from: .interests, of: customer) } else { try writer.add(interest, to: .interests, of: customer) }
                    case .note:
                        try writer.addNote(NewNote(text: "Visit \(pick): talked about savings and the mortgage", author: "a-\(index)", channel: .branch), to: customer)
                    case .consent:
                        try writer.recordConsent(pick % 2 == 0 ? .granted : .withdrawn, for: .marketing, source: "device \(index)", of: customer)
                    case .lifeEvent:
                        let date = try LocalDate(parsing: "2026-0\(pick % 9 + 1)-1\(pick % 9)")
                        try writer.recordLifeEvent(NewLifeEvent(type: .homePurchase, date: date, source: "device \(index)"), of: customer)
                    case .contact:
                        try writer.recordContact(NewContact(channel: .email, purpose: "service", topic: "topic \(pick % 50)", outcome: .shown), of: customer)
                    }
                }
                return (writer.changeCount, made)
            }
            return (result.0, result.1, store.replica)
        }
        written += Int(count)
        ownCustomers += newCustomers
        self.replica = replica
    }

    /// Whether the outbox is empty, and the store's export.
    func finalState() async throws -> (pending: Int, export: String) {
        try await withStore { store in
            try await store.read { reader in
                var text = ""
                try reader.exportJSON { text += $0 }
                return (try reader.outboxCount(), text)
            }
        }
    }

    static func kind(of error: SyncError) -> String {
        switch error {
        case .refused(let refusal): "refused (\(refusal.code.rawValue))"
        case .unreachable: "server unreachable"
        case .invalidResponse(let endpoint, _, _): "invalid response on \(endpoint)"
        case .incompatibleServer: "incompatible server"
        case .invalidServer: "invalid server URL"
        case .changeTooLarge: "change too large"
        case .invalidCertificateAuthority: "invalid certificate authority"
        case .tlsFailed: "TLS failed"
        }
    }
}

/// The edits a session picks from, with their weights.
enum Edit: CaseIterable {
    case createCustomer, preferredName, stage, segment, doNotContact, legalName, interest, note, consent, lifeEvent, contact

    static func random(using random: inout SplitMix) -> Edit {
        // Notes and plain field writes are the common case; new customers are rare.
        let weighted: [(Edit, Int)] = [
            (.createCustomer, 2), (.preferredName, 10), (.stage, 8), (.segment, 6), (.doNotContact, 4), (.legalName, 4),
            (.interest, 8), (.note, 20), (.consent, 6), (.lifeEvent, 4), (.contact, 8),
        ]
        var roll = Int.random(in: 0..<weighted.reduce(0) { $0 + $1.1 }, using: &random)
        for (edit, weight) in weighted {
            if roll < weight { return edit }
            roll -= weight
        }
        return .note
    }
}

/// A small deterministic generator (SplitMix64): a seed replays the same edits.
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

/// The edit operations left to hand out, when the run is bounded by a number of operations.
final class OperationBudget: Sendable {
    private let left: Mutex<Int?>
    init(_ total: Int?) { left = Mutex(total) }

    /// Takes up to `wanted` operations; 0 when the budget is spent.
    func take(_ wanted: Int) -> Int {
        left.withLock { left in
            guard let remaining = left else { return wanted }
            let granted = min(wanted, remaining)
            left = remaining - granted
            return granted
        }
    }
}
