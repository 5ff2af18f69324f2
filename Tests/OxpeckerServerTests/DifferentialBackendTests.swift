import Foundation
import Logging
import OxpeckerProtocol
import OxpeckerServer
import OxpeckerStore
import OxpeckerSync
import Synchronization
import Testing

/// The two storage backends are two implementations of one server: the same
/// history pushed through each must be answered the same and end in the same
/// state, byte for byte, wherever it is read from.
///
/// A history is made once, offline and seeded (``RecordedHistory``), then
/// replayed step by step on a fresh server of each backend (``Replay``): the
/// same raw `POST /v1/push` batches in the same order, the same erasure, and
/// two devices pulling (7 changes a page) at the same points, one with the
/// token of the branch every customer is in, one with a token of a second
/// scope that customers enter and leave; at the end a new device of each token
/// bootstraps (2 customers a page). Compared across the backends: every push
/// answer, each pulling device's export and open conflicts after each of its
/// syncs, the erasure's report, the server's state, and every device's final
/// export and open conflicts. On each backend: the device that pulled and the
/// one that bootstrapped hold the same; the branch's hold the server's state;
/// the second scope's hold exactly the customers in it.
@Suite("Differential: the SQLite and the PostgreSQL server", .serialized)
struct DifferentialBackendTests {
    static let seeds: [UInt64] = [5, 19, 2026]

    @Test(
        "the same random history through both backends: the same answers, byte-identical exports on pulling and bootstrapping devices, no note lost",
        .enabled(if: ServerBackend.postgresURL != nil, ServerBackend.postgresSkipReason), arguments: seeds)
    func sameHistorySameBytes(seed: UInt64) async throws {
        let folder = try ScratchFolder()
        let history = try await RecordedHistory.make(seed: seed, in: folder)
        let erasedAt = Instant(millisecondsSince1970: WallClock.system.now())
        let sqlite = try await Replay.run(history, on: .sqlite, erasedAt: erasedAt)
        let postgres = try await Replay.run(history, on: .postgres, erasedAt: erasedAt)

        // The history is what it claims to be (of the seeds here: a seed that makes no conflict, or
        // never puts a customer in the second scope at a pull, is a poor one): the answers are those
        // of a valid history, not the same refusal twice; nothing is refused but what the erasure drops.
        let outcomes = try sqlite.answers.flatMap { try WireCodec().decode(PushResponse.self, from: Array($0.utf8)).results }
        #expect(outcomes.filter { $0.outcome == .accepted }.count > 100, "seed \(seed)")
        #expect(outcomes.contains { $0.outcome == .duplicate }, "some batches are pushed twice (seed \(seed))")
        for result in outcomes where result.outcome == .rejected {
            #expect(result.reason == ErrorCode.customerErased, "only the erased customer's changes are refused: \(result) (seed \(seed))")
        }
        #expect(
            sqlite.pulledConflicts[.branchPuller, default: []].contains { !$0.isEmpty },
            "the history makes concurrent writes of guarded fields (seed \(seed))")
        #expect(
            sqlite.pulled[.otherPuller, default: []].contains { $0.contains(RecordedHistory.otherScope) },
            "customers enter the second scope (seed \(seed))")

        // Across the backends.
        #expect(sqlite.answers.count == postgres.answers.count)
        if let index = firstMismatch(sqlite.answers, postgres.answers) {
            Issue.record(
                """
                push \(index) (\(history.pushLabels[index])) is answered differently (seed \(seed)):
                sqlite:   \(sqlite.answers[index])
                postgres: \(postgres.answers[index])
                """)
        }
        for device in Replay.Device.pullers {
            let left = sqlite.pulled[device, default: []], right = postgres.pulled[device, default: []]
            #expect(left.count == right.count)
            if let index = firstMismatch(left, right) {
                Issue.record(
                    "after pull \(index), \(device.rawValue) differs between the backends (seed \(seed)): \(firstDifference(left[index], right[index]))")
            }
            let conflicts = (sqlite.pulledConflicts[device, default: []], postgres.pulledConflicts[device, default: []])
            if let index = zip(conflicts.0, conflicts.1).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
                Issue.record(
                    """
                    after pull \(index), \(device.rawValue) has other open conflicts on each backend (seed \(seed)):
                    sqlite:   \(conflicts.0[index])
                    postgres: \(conflicts.1[index])
                    """)
            }
        }
        #expect(sqlite.erasure == postgres.erasure, "the erasure's report (seed \(seed))")
        expectIdentical(sqlite.server, postgres.server, "the servers' states (seed \(seed))")
        for device in Replay.Device.allCases {
            expectIdentical(sqlite.exports[device] ?? "", postgres.exports[device] ?? "", "\(device.rawValue) on each backend (seed \(seed))")
            #expect(sqlite.conflicts[device] == postgres.conflicts[device], "the open conflicts of \(device.rawValue) on each backend (seed \(seed))")
        }

        // On each backend: the devices that pulled change by change, those that bootstrapped, the server.
        for transcript in [sqlite, postgres] {
            let backend = transcript.backend
            let exports = transcript.exports
            expectIdentical(
                exports[.branchPuller] ?? "", exports[.branchNewcomer] ?? "", "\(backend): the branch's pulling and bootstrapped devices (seed \(seed))")
            expectIdentical(exports[.branchPuller] ?? "", transcript.server, "\(backend): the branch's pulling device and the server (seed \(seed))")
            expectIdentical(
                exports[.otherPuller] ?? "", exports[.otherNewcomer] ?? "",
                "\(backend): the second scope's pulling and bootstrapped devices (seed \(seed))")
            #expect(transcript.conflicts[.branchPuller] == transcript.conflicts[.branchNewcomer], "\(backend): the branch's conflicts (seed \(seed))")
            #expect(
                transcript.conflicts[.otherPuller] == transcript.conflicts[.otherNewcomer], "\(backend): the second scope's conflicts (seed \(seed))")
            let inOtherScope = try Self.customers(of: try JSONValue(parsing: transcript.server), in: RecordedHistory.otherScope)
            let otherDevice = try JSONValue(parsing: exports[.otherPuller] ?? "")
            if otherDevice != inOtherScope {
                Issue.record(
                    "\(backend): the second scope's device holds other than the customers in it (seed \(seed)): \(firstDifference(otherDevice, inOtherScope))")
            }
            // No note lost: every note written of a customer not erased is there, with its text unless redacted.
            let kept = history.notes.filter { $0.value != history.erased }
            #expect(Set(transcript.notes.map(\.id)) == Set(kept.keys), "\(backend): every note written is there (seed \(seed))")
            #expect(
                Set(transcript.notes.filter { $0.text != nil }.map(\.id)) == Set(kept.keys).subtracting(history.redacted),
                "\(backend): the text of every note not redacted, and of no redacted one (seed \(seed))")
        }
    }

    /// Records an issue naming where two exports first differ.
    private func expectIdentical(_ left: String, _ right: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard left != right else { return }
        Issue.record("\(what) differ: \(firstDifference(left, right))", sourceLocation: sourceLocation)
    }

    /// The index of the first element where two lists differ.
    private func firstMismatch(_ left: [String], _ right: [String]) -> Int? {
        zip(left, right).enumerated().first { $0.element.0 != $0.element.1 }?.offset
    }

    /// An export with only the customers in `scope`.
    private static func customers(of export: JSONValue, in scope: String) throws -> JSONValue {
        guard case .object(var members) = export, let customers = members["customers"]?.arrayValue else {
            throw ReplayFailure("an export without customers")
        }
        members["customers"] = .array(customers.filter { ($0["sets"]?["scopes"]?.arrayValue ?? []).contains(.string(scope)) })
        return .object(members)
    }
}

/// A seeded history, made offline once, as the steps a server sees.
///
/// 3–4 device stores on manual clocks edit five customers in every way a
/// device can: registers set and cleared, guarded fields (legal name, tax
/// residence), set adds (also of an element already there, which a removal
/// made concurrently elsewhere must not win over) and removes, a second scope
/// added and removed, notes, their revisions and redactions, consents, life
/// events, contacts. Now and then a device publishes: the outbox changes it
/// has not published, exactly as its sync would push them at that moment,
/// split into batches of 1–7 (and some batches pushed a second time, as a
/// retry after a lost answer), into an offline relay; it then takes a random
/// part of the relay. So later edits
/// build on earlier ones of other devices (revising their notes, removing
/// their elements, a guarded write that resolves a conflict), while others
/// are concurrent (guarded-field conflicts, add-wins races); and a device
/// pushes only what builds on changes already pushed, as it would through a
/// server. Half-way, the administrator erases one customer; the devices,
/// offline, go on editing it. Devices pull at random points.
///
/// Replica and record ids are random (the stores make them), so a seed replays
/// the same history up to those ids; they only break exact ties of stamps.
struct RecordedHistory: Sendable {
    enum Step: Sendable {
        case push(replica: ReplicaID, changes: [Change])
        case pull
        case erase(CustomerID)
    }

    var steps: [Step] = []
    /// Every note written, with its customer.
    var notes: [RecordID: CustomerID] = [:]
    var redacted: Set<RecordID> = []
    /// The customer the administrator erases.
    let erased: CustomerID

    /// Each push step, described for a failure message.
    var pushLabels: [String] {
        steps.compactMap { step in
            guard case .push(let replica, let changes) = step else { return nil }
            return "replica \(replica), changes \(changes.first?.number ?? 0)…\(changes.last?.number ?? 0)"
        }
    }

    static let customers: [CustomerID] = ["c-1", "c-2", "c-3", "c-4", "c-5"]
    /// A second scope, which the writing devices' token does not grant.
    static let otherScope = "branch:HN02"

    static func make(seed: UInt64, in folder: ScratchFolder) async throws -> RecordedHistory {
        var random = SplitMix(seed: seed)
        let count = Int.random(in: 3...4, using: &random)
        // Manual clocks, a few milliseconds apart: stamps are the seed's, and rarely tie.
        let clocks = (0..<count).map { index in
            HistoryClock(1_764_000_000_000 + Int64(index) * 7 + Int64.random(in: 0...60_000, using: &random))
        }
        let stores = try (0..<count).map { index in
            try CustomerStore.create(
                at: folder.path("history-\(index).oxpecker"), options: StoreOptions(clock: clocks[index].wallClock, durability: .normal))
        }
        var maker = Maker(stores: stores, history: RecordedHistory(erased: customers[customers.count - 1]))
        // The pulling devices start before the first push: everything they get comes by the log, page by page.
        maker.history.steps.append(.pull)
        try await stores[0].write { writer in for id in customers { try writer.createCustomer(id, in: [testScope]) } }
        try await maker.publish(0, using: &random)
        for store in stores.dropFirst() { _ = try await store.apply(maker.relay) }

        let edits = 240
        for step in 0..<edits {
            let index = Int.random(in: 0..<count, using: &random)
            clocks[index].advance(Int64.random(in: -1_500...6_000, using: &random))
            try await maker.edit(index, using: &random)
            if Int.random(in: 0..<4, using: &random) == 0 {
                try await maker.publish(index, using: &random)
                var delivery = maker.relay.filter { _ in Int.random(in: 0..<3, using: &random) > 0 }
                delivery.shuffle(using: &random)
                _ = try await stores[index].apply(delivery)
            }
            if Int.random(in: 0..<5, using: &random) == 0 { maker.history.steps.append(.pull) }
            if step == edits / 2 { maker.history.steps.append(.erase(maker.history.erased)) }
        }
        for index in 0..<count { try await maker.publish(index, using: &random) }
        maker.history.steps.append(.pull)
        return maker.history
    }

    /// The stores and what they have published so far.
    private struct Maker {
        let stores: [CustomerStore]
        var history: RecordedHistory
        /// Every change published, in order.
        var relay: [Change] = []
        /// The earlier push steps, for retries.
        var pushes: [RecordedHistory.Step] = []
        private var published: [Int64]

        init(stores: [CustomerStore], history: RecordedHistory) {
            self.stores = stores
            self.history = history
            published = Array(repeating: 0, count: stores.count)
        }

        /// Device `index` publishes what it has not: pushes of 1–7 changes, a few of them sent twice.
        mutating func publish(_ index: Int, using random: inout SplitMix) async throws {
            let after = published[index]
            let fresh = try await stores[index].read { try $0.outbox(after: after, limit: 100_000) }
            guard let last = fresh.last else { return }
            published[index] = last.number
            relay += fresh
            var rest = fresh[...]
            while !rest.isEmpty {
                let size = Int.random(in: 1...7, using: &random)
                let push = RecordedHistory.Step.push(replica: stores[index].replica, changes: Array(rest.prefix(size)))
                rest = rest.dropFirst(size)
                history.steps.append(push)
                pushes.append(push)
                if Int.random(in: 0..<8, using: &random) == 0, let retry = pushes.randomElement(using: &random) {
                    history.steps.append(retry)
                }
            }
        }

        /// One random edit by device `index`.
        mutating func edit(_ index: Int, using random: inout SplitMix) async throws {
            let store = stores[index]
            let customer = RecordedHistory.customers.randomElement(using: &random)!
            let roll = Int.random(in: 0..<18, using: &random)
            let pick = Int.random(in: 0..<1000, using: &random)
            let (live, interests) = try await store.read { reader in
                (
                    try reader.notes(of: customer, limit: 1000).filter { $0.redaction == nil }.map(\.id),
                    try reader.profile(of: customer).sets["interests"] ?? []
                )
            }
            let note = live.isEmpty ? nil : live[pick % live.count]
            let author = "a-\(index)"
            let written: RecordID? = try await store.write { writer in
                switch roll {
                case 0: try writer.set(.preferredName, to: "name \(pick % 5)", of: customer)
                case 1: try writer.set(.preferredName, to: nil, of: customer)
                case 2: try writer.set(.stage, to: Stage.allCases[pick % Stage.allCases.count], of: customer)
                case 3, 4: try writer.set(.legalName, to: "Legal \(pick % 3)", of: customer)
                case 5: try writer.set(.taxResidence, to: ["CZ", "SK", "AT"][pick % 3], of: customer)
                case 6: try writer.add(["golf", "sailing", "opera"][pick % 3], to: .interests, of: customer)
                // A person confirming an element already there: a new tag, which a concurrent removal did not see.
                case 7: try writer.add(interests.isEmpty ? "golf" : interests[pick % interests.count], to: .interests, of: customer)
                case 8: if !interests.isEmpty { try writer.remove(interests[pick % interests.count], from: .interests, of: customer) }
                case 9 where pick % 2 == 0: try writer.add("vip", to: .tags, of: customer)
                case 9: try writer.remove("vip", from: .tags, of: customer)
                case 10: return try writer.addNote(NewNote(text: "note \(pick) by \(author)", author: author, channel: .branch), to: customer)
                case 11: if let note { try writer.reviseNote(note, text: "edit \(pick)", author: author) }
                case 12: if let note, pick % 3 == 0 { try writer.redactNote(note, by: author, reason: pick % 2 == 0 ? "asked" : nil) }
                case 13:
                    try writer.recordConsent(
                        pick % 2 == 0 ? .granted : .withdrawn, for: pick % 4 < 2 ? .marketing : .profiling, source: "d\(index)", of: customer)
                case 14:
                    try writer.recordLifeEvent(
                        NewLifeEvent(type: .newChild, date: try LocalDate(parsing: "2026-0\(pick % 9 + 1)-01"), source: "d\(index)"), of: customer)
                case 15: try writer.recordContact(NewContact(channel: .email, purpose: "service", topic: "t\(pick)", outcome: .shown), of: customer)
                // A second scope, added and removed (the customer stays in the writing devices' own).
                case 16 where pick % 2 == 0: try writer.add(RecordedHistory.otherScope, to: .scopes, of: customer)
                case 16: try writer.remove(RecordedHistory.otherScope, from: .scopes, of: customer)
                default: try writer.set(.doNotContact, to: pick % 2 == 0, of: customer)
                }
                return nil
            }
            if let written { history.notes[written] = customer }
            if roll == 12, let note, pick % 3 == 0 { history.redacted.insert(note) }
        }
    }
}

/// A history replayed on a new server of one backend.
enum Replay {
    /// The devices that sync with a replayed server: for each of two tokens (the
    /// branch's, which sees every customer; the second scope's), one pulls at
    /// every pull step and one bootstraps at the end.
    enum Device: String, CaseIterable, Sendable {
        case branchPuller = "the branch's pulling device"
        case branchNewcomer = "the branch's bootstrapped device"
        case otherPuller = "the second scope's pulling device"
        case otherNewcomer = "the second scope's bootstrapped device"

        static let pullers: [Device] = [.branchPuller, .otherPuller]
    }

    /// What one backend did with a history.
    struct Transcript: Sendable {
        let backend: ServerBackend
        /// Each push's answer, as sent.
        var answers: [String] = []
        /// Each pulling device's export and open conflicts after each of its syncs.
        var pulled: [Device: [String]] = [:]
        var pulledConflicts: [Device: [[String]]] = [:]
        var erasure = ""
        /// The server's state at the end.
        var server = ""
        /// Every device's export and open conflicts at the end.
        var exports: [Device: String] = [:]
        var conflicts: [Device: [String]] = [:]
        /// The branch's bootstrapped device's notes.
        var notes: [Note] = []
    }

    static func run(_ history: RecordedHistory, on backend: ServerBackend, erasedAt: Instant) async throws -> Transcript {
        let result = Shared(Transcript(backend: backend))
        try await LiveServer.run(backend) { server in
            var transcript = Transcript(backend: backend)
            let otherToken = try await server.storage.createToken(
                name: "second-scope", scopes: [RecordedHistory.otherScope], expiresAt: nil,
                now: Instant(millisecondsSince1970: WallClock.system.now()))
            let logger = {
                var logger = Logger(label: "oxpecker-test.differential")
                logger.logLevel = .warning
                return logger
            }()
            func client(_ device: Device, _ store: CustomerStore) throws -> SyncClient {
                let token = device == .branchPuller || device == .branchNewcomer ? server.token : otherToken.secret
                var configuration = SyncConfiguration(server: server.url, token: token)
                configuration.pullPageSize = 7
                configuration.bootstrapPageSize = 2
                return try SyncClient(store: store, configuration: configuration, logger: logger)
            }
            let transport = try HTTPSyncTransport(server: server.url)
            let headers: [(name: String, value: String)] = [
                ("Oxpecker-Protocol", "1"), ("Authorization", "Bearer \(server.token)"), ("Content-Type", "application/json"),
            ]
            var stores: [Device: CustomerStore] = [:]
            for device in Device.pullers { stores[device] = try server.newStore("\(device)") }
            for step in history.steps {
                switch step {
                case .push(let replica, let changes):
                    let response = try await transport.post(
                        path: "/v1/push", body: WireCodec().encode(PushRequest(replica: replica, changes: changes)), headers: headers)
                    let answer = String(decoding: response.body, as: UTF8.self)
                    try #require(response.status == 200, "\(backend): push answered HTTP \(response.status): \(answer)")
                    transcript.answers.append(answer)
                case .pull:
                    for device in Device.pullers {
                        let store = try #require(stores[device])
                        try await client(device, store).sync()
                        transcript.pulled[device, default: []].append(try await export(store))
                        transcript.pulledConflicts[device, default: []].append(try await conflicts(of: store))
                    }
                case .erase(let customer):
                    let status = try await server.storage.eraseCustomer(customer, by: "dpo", at: erasedAt)
                    transcript.erasure =
                        "\(status.customer): \(status.removedChanges) changes removed, \(status.unconfirmed.count) stores to confirm"
                }
            }
            for device in [Device.branchNewcomer, .otherNewcomer] {
                let store = try server.newStore("\(device)")
                try await client(device, store).sync()
                stores[device] = store
            }
            transcript.server = try await server.storage.exportState()
            for (device, store) in stores {
                transcript.exports[device] = try await export(store)
                transcript.conflicts[device] = try await conflicts(of: store)
            }
            let newcomer = try #require(stores[.branchNewcomer])
            transcript.notes = try await newcomer.read { reader in
                try RecordedHistory.customers.flatMap { try reader.notes(of: $0, limit: 10_000) }
            }
            result.set(transcript)
        }
        return result.value
    }

    /// A store's open conflicts, one line each: customer, field, and each candidate's stamp and value.
    static func conflicts(of store: CustomerStore) async throws -> [String] {
        try await store.read { reader in
            try reader.conflicts().map { conflict in
                "\(conflict.customer) \(conflict.field): "
                    + conflict.candidates.map { "\($0.hlc) \($0.value.canonicalText)" }.joined(separator: " | ")
            }
        }
    }
}

/// A replay that cannot go on.
private struct ReplayFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A device's wall clock, moved by the test.
private final class HistoryClock: Sendable {
    private let millis: Mutex<Int64>
    init(_ start: Int64) { millis = Mutex(start) }
    var wallClock: WallClock { WallClock { [self] in millis.withLock { $0 } } }
    func advance(_ delta: Int64) { millis.withLock { $0 += delta } }
}

/// Where two JSON texts first differ: the path and the two values there (or, if
/// either does not parse, the first differing character).
func firstDifference(_ left: String, _ right: String) -> String {
    if let a = try? JSONValue(parsing: left), let b = try? JSONValue(parsing: right), a != b {
        return firstDifference(a, b)
    }
    let offset = zip(left, right).prefix { $0 == $1 }.count
    return "at character \(offset): …\(left.dropFirst(offset).prefix(120)) vs …\(right.dropFirst(offset).prefix(120))"
}

/// Where two JSON values first differ, as a path and the two values.
func firstDifference(_ left: JSONValue, _ right: JSONValue, path: String = "$") -> String {
    switch (left, right) {
    case (.object(let a), .object(let b)):
        for key in Set(a.keys).union(b.keys).sorted() where a[key] != b[key] {
            return firstDifference(a[key] ?? .null, b[key] ?? .null, path: path + "." + key)
        }
    case (.array(let a), .array(let b)):
        for (index, pair) in zip(a, b).enumerated() where pair.0 != pair.1 {
            return firstDifference(pair.0, pair.1, path: path + "[\(index)]")
        }
        if a.count != b.count {
            let extra = a.count > b.count ? a[b.count] : b[a.count]
            return "\(path): \(a.count) vs \(b.count) elements, the first extra one \(shortened(extra.canonicalText))"
        }
    default: break
    }
    return "\(path): \(shortened(left.canonicalText)) vs \(shortened(right.canonicalText))"
}

private func shortened(_ text: String) -> String {
    text.count <= 400 ? text : text.prefix(400) + "…"
}
