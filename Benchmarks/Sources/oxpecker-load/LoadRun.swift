import AsyncHTTPClient
import Foundation
import BenchmarkResults
import Logging
import OxpeckerProtocol
import OxpeckerStore
import OxpeckerSync

/// One load run: seed the pool, bootstrap every device, the measured phase of
/// random edits and syncs, the final full sync, then the checks.
struct LoadRun {
    let options: LoadCommand
    let fleet: ServerFleet
    let client: HTTPClient
    let folder: String

    func run() async throws -> LoadResult {
        var logger = Logger(label: "oxpecker-load")
        logger.logLevel = .error
        let recorder = RequestRecorder()
        let transports = try fleet.urls.map { url in
            MeasuringTransport(inner: try HTTPSyncTransport(server: url, client: client), recorder: recorder)
        }
        // Device i is in scope i % K (K = --scopes) and edits that scope's slice of the pool; the seeder sees every scope.
        let scopes = options.scopeNames
        func device(_ index: Int) -> SimulatedDevice {
            let instance = (index + fleet.urls.count) % fleet.urls.count
            let token = index < 0 ? fleet.token : fleet.scopeTokens[index % scopes.count]
            let configuration = SyncConfiguration(server: fleet.urls[instance], token: token)
            return SimulatedDevice(
                index: index, path: folder + "/device-\(index).oxpecker", configuration: configuration, transport: transports[instance], logger: logger)
        }

        note("seeding \(options.customers) customers\(scopes.count > 1 ? " in \(scopes.count) scopes" : "") …")
        let pool = (0..<options.customers).map { CustomerID(unchecked: String(format: "p-%05d", $0)) }
        let pools = scopes.indices.map { scope in pool.indices.filter { $0 % scopes.count == scope }.map { pool[$0] } }
        var seeder = device(-1)
        try await seeder.seed(pool, scopes: scopes)
        try await seeder.sync(recorder: recorder)

        note("bootstrapping \(options.devices) devices …")
        var fleetDevices = try await forEach(Array((0..<options.devices).map(device)), concurrency: 64) { device in
            try await device.sync(recorder: recorder)
        }
        let setupErrors = recorder.summary(seconds: 1)
        recorder.reset()

        note("measuring: \(options.seconds) s\(options.operations.map { " or \($0) edit operations" } ?? "") …")
        let budget = OperationBudget(options.operations)
        let before = usageSnapshot()
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + .milliseconds(Int64(options.seconds * 1000))
        let (thinkMs, sessionEdits, syncChance, seed) = (options.thinkMs, options.sessionEdits, options.syncChance, options.seed)
        fleetDevices = try await withThrowingTaskGroup(of: SimulatedDevice.self) { group in
            for initial in fleetDevices {
                let (pool, scope) = (pools[initial.index % scopes.count], scopes[initial.index % scopes.count])
                group.addTask {
                    var device = initial
                    var random = SplitMix(seed: seed &* 1_000_003 &+ UInt64(device.index))
                    while clock.now < deadline {
                        try await Task.sleep(for: .milliseconds(Int.random(in: 0...(2 * thinkMs), using: &random)))
                        guard clock.now < deadline else { break }
                        if Double.random(in: 0..<1, using: &random) < syncChance {
                            try await device.sync(recorder: recorder)
                        } else {
                            let granted = budget.take(Int.random(in: 1...sessionEdits, using: &random))
                            if granted == 0 { break }
                            try await device.edit(operations: granted, pool: pool, scope: scope, random: &random)
                        }
                    }
                    return device
                }
            }
            var finished: [SimulatedDevice] = []
            for try await device in group { finished.append(device) }
            return finished.sorted { $0.index < $1.index }
        }
        let elapsed = (clock.now - start).seconds
        let after = usageSnapshot()
        var traffic = recorder.summary(seconds: elapsed)

        note("final sync of every device (twice: push everything, then pull everything) …")
        let finalRecorder = RequestRecorder()
        var everyone = [seeder] + fleetDevices
        for _ in 0..<2 {
            everyone = try await forEach(everyone, concurrency: 64) { try await $0.sync(recorder: finalRecorder) }
        }
        for (kind, count) in finalRecorder.summary(seconds: 1).errors { traffic.errors["final sync: " + kind, default: 0] += count }
        for (kind, count) in setupErrors.errors { traffic.errors["setup: " + kind, default: 0] += count }
        traffic.serverErrors += finalRecorder.summary(seconds: 1).serverErrors + setupErrors.serverErrors

        note("verifying …")
        let verification = try await verify(devices: everyone, transport: transports[0], logger: logger)

        let usage = [LoadResult.ProcessUsage(name: "oxpecker-load (all devices)", cpuSeconds: after.own - before.own, peakMiB: ProcessUsage.peakMiB(pid: getpid()))]
            + zip(before.servers, after.servers).map { start, end in
                LoadResult.ProcessUsage(name: end.name, cpuSeconds: end.cpuSeconds - start.cpuSeconds, peakMiB: end.peakMiB)
            }
        let setup = LoadResult.Setup(
            devices: options.devices, backend: fleet.backend, instances: fleet.urls.count, customers: options.customers,
            seconds: elapsed, operationLimit: options.operations, seed: options.seed, scopes: scopes.count)
        return LoadResult(setup: setup, traffic: traffic, verification: verification, usage: usage)
    }

    /// Every device's outbox is empty and its export equals the reference of its token (the server's
    /// whole state for a device that sees every scope, else a new device bootstrapped with the same
    /// token); the log holds every change once.
    func verify(devices: [SimulatedDevice], transport: any SyncTransport, logger: Logger) async throws -> LoadResult.Verification {
        let serverState = try fleet.exportState()
        var references: [String: String] = [:]
        var sources: Set<String> = []
        var diverged = 0
        var unpushed = 0
        for device in devices {
            let token = device.configuration.token
            if references[token] == nil {
                if let serverState, token == fleet.token {
                    references[token] = serverState
                    sources.insert("oxpecker-server export")
                } else {
                    var fresh = SimulatedDevice(
                        index: -2 - references.count, path: folder + "/reference-\(references.count).oxpecker", configuration: device.configuration,
                        transport: device.transport, logger: logger)
                    try await fresh.sync(recorder: RequestRecorder())
                    references[token] = try await fresh.finalState().export
                    sources.insert("a new device bootstrapped from the server with the same token")
                }
            }
            let state = try await device.finalState()
            if state.pending > 0 { unpushed += 1 }
            if state.export != references[token] {
                diverged += 1
                note("device \(device.index) differs from its reference")
            }
        }
        let source = sources.sorted().joined(separator: "; ")
        var written: [ReplicaID: Int] = [:]
        for device in devices {
            if let replica = device.replica { written[replica] = device.written }
        }
        let audit = try await LogAudit.read(server: fleet.urls[0], token: fleet.token, transport: transport)
        let (lost, duplicated) = audit.check(written: written)
        return LoadResult.Verification(
            written: written.values.reduce(0, +), inLog: audit.total, lost: lost, duplicated: duplicated, diverged: diverged,
            unpushed: unpushed, reference: source)
    }

    private func usageSnapshot() -> (own: Double, servers: [(name: String, cpuSeconds: Double, peakMiB: Double?)]) {
        (ProcessUsage.ownCPUSeconds(), fleet.usage())
    }
}

/// Runs `body` on every element, at most `concurrency` at a time; returns the elements in order.
func forEach(_ items: [SimulatedDevice], concurrency: Int, _ body: @escaping @Sendable (inout SimulatedDevice) async throws -> Void) async throws -> [SimulatedDevice] {
    try await withThrowingTaskGroup(of: (Int, SimulatedDevice).self) { group in
        var results = items
        var next = 0
        func start() {
            guard next < items.count else { return }
            let position = next
            let initial = items[position]
            next += 1
            group.addTask {
                var item = initial
                try await body(&item)
                return (position, item)
            }
        }
        for _ in 0..<concurrency { start() }
        while let (position, item) = try await group.next() {
            results[position] = item
            start()
        }
        return results
    }
}
