import Foundation

/// What one run of `oxpecker-load` measured and verified, as `--json PATH`
/// writes it; `oxpecker-bench` reads it back for BENCHMARKS.md.
///
/// ```swift
/// let result = try LoadResult.read(from: "load.json")
/// print(result.traffic.pushed, result.verification.converged)
/// ```
public struct LoadResult: Codable, Sendable {
    /// How the run was set up.
    public struct Setup: Codable, Sendable {
        public var devices: Int
        public var backend: String
        public var instances: Int
        public var customers: Int
        public var seconds: Double
        public var operationLimit: Int?
        public var seed: UInt64
        /// The scopes the devices were spread over, each with a token and a slice of the pool (nil in results written before the option).
        public var scopes: Int?
        public init(
            devices: Int, backend: String, instances: Int, customers: Int, seconds: Double, operationLimit: Int?, seed: UInt64, scopes: Int = 1
        ) {
            self.devices = devices
            self.scopes = scopes
            self.backend = backend
            self.instances = instances
            self.customers = customers
            self.seconds = seconds
            self.operationLimit = operationLimit
            self.seed = seed
        }
    }

    /// Latency of one kind of request, in milliseconds.
    public struct Latency: Codable, Sendable {
        public var kind: String
        public var count: Int
        public var p50: Double
        public var p90: Double
        public var p99: Double
        public var max: Double
        public init(kind: String, count: Int, p50: Double, p90: Double, p99: Double, max: Double) {
            self.kind = kind
            self.count = count
            self.p50 = p50
            self.p90 = p90
            self.p99 = p99
            self.max = max
        }
    }

    /// The requests of the measured phase (edits and random syncs, not setup or the final sync).
    public struct Traffic: Codable, Sendable {
        public var seconds: Double
        public var syncs: Int
        /// Changes the server acknowledged to devices.
        public var pushed: Int
        /// Changes devices received by pulls.
        public var pulled: Int
        public var requests: Int
        /// Answers with a 5xx status (retried by the client, still counted).
        public var serverErrors: Int
        /// Answers by HTTP status.
        public var statuses: [String: Int]
        /// Failures by kind: statuses ≥ 400, requests without an answer, syncs that gave up.
        public var errors: [String: Int]
        public var latency: [Latency]
        public init(
            seconds: Double, syncs: Int, pushed: Int, pulled: Int, requests: Int, serverErrors: Int, statuses: [String: Int],
            errors: [String: Int], latency: [Latency]
        ) {
            self.seconds = seconds
            self.syncs = syncs
            self.pushed = pushed
            self.pulled = pulled
            self.requests = requests
            self.serverErrors = serverErrors
            self.statuses = statuses
            self.errors = errors
            self.latency = latency
        }
    }

    /// What the end of the run checked.
    public struct Verification: Codable, Sendable {
        /// Changes the devices wrote (the seeding device included).
        public var written: Int
        /// Changes in the server's log.
        public var inLog: Int
        /// Changes written but not in the log.
        public var lost: Int
        /// Changes in the log more than once, or not written by any device.
        public var duplicated: Int
        /// Devices whose export differs from the reference (the server's state).
        public var diverged: Int
        /// Devices with changes still in their outbox after the final sync.
        public var unpushed: Int
        /// Where the reference export came from.
        public var reference: String
        public var converged: Bool { lost == 0 && duplicated == 0 && diverged == 0 && unpushed == 0 }
        public init(written: Int, inLog: Int, lost: Int, duplicated: Int, diverged: Int, unpushed: Int, reference: String) {
            self.written = written
            self.inLog = inLog
            self.lost = lost
            self.duplicated = duplicated
            self.diverged = diverged
            self.unpushed = unpushed
            self.reference = reference
        }
    }

    /// CPU seconds and peak memory of one process (or group of processes) over the run.
    public struct ProcessUsage: Codable, Sendable {
        public var name: String
        public var cpuSeconds: Double
        public var peakMiB: Double?
        public init(name: String, cpuSeconds: Double, peakMiB: Double?) {
            self.name = name
            self.cpuSeconds = cpuSeconds
            self.peakMiB = peakMiB
        }
    }

    public var setup: Setup
    public var traffic: Traffic
    public var verification: Verification
    /// CPU over the measured phase: the load generator (devices), each server, the database.
    public var usage: [ProcessUsage]

    public init(setup: Setup, traffic: Traffic, verification: Verification, usage: [ProcessUsage]) {
        self.setup = setup
        self.traffic = traffic
        self.verification = verification
        self.usage = usage
    }

    /// Whether the run had no 5xx, no failed request, and converged with nothing lost or duplicated.
    public var passed: Bool { verification.converged && traffic.serverErrors == 0 && traffic.errors.isEmpty }

    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path))
    }

    public static func read(from path: String) throws -> LoadResult {
        try JSONDecoder().decode(LoadResult.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }
}
