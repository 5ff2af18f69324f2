import Foundation

/// What `oxpecker-sync-bench --json PATH` measured: several runs of push, pull
/// and bootstrap at one size, each with its raw SQLite baseline, and one run at
/// the full size for the bootstrap and the device's memory.
///
/// ```swift
/// let result = try SyncResult.read(from: "sync.json")
/// print(result.runs.map(\.pullSeconds))
/// ```
public struct SyncResult: Codable, Sendable {
    /// One run: a device pushes `changes`, another pulls them, a third bootstraps.
    public struct Run: Codable, Sendable {
        public var customers: Int
        public var changes: Int
        public var pushSeconds: Double
        public var pullSeconds: Double
        public var bootstrapSeconds: Double
        /// The same bootstrap in the form a device of protocol version 2 gets (the changes
        /// that make up each customer, not its state); nil in results of earlier builds.
        public var bootstrapChangesFormSeconds: Double?
        /// Raw SQLite inserts of the same number of rows (1,000 per transaction).
        public var rawSeconds: Double
        /// Peak resident memory of the pulling device's process (VmHWM), MiB.
        public var pullingDevicePeakMiB: Double
        /// Whether the three devices' exports were identical.
        public var identical: Bool

        public init(
            customers: Int, changes: Int, pushSeconds: Double, pullSeconds: Double, bootstrapSeconds: Double,
            bootstrapChangesFormSeconds: Double? = nil, rawSeconds: Double, pullingDevicePeakMiB: Double, identical: Bool
        ) {
            self.customers = customers
            self.changes = changes
            self.pushSeconds = pushSeconds
            self.pullSeconds = pullSeconds
            self.bootstrapSeconds = bootstrapSeconds
            self.bootstrapChangesFormSeconds = bootstrapChangesFormSeconds
            self.rawSeconds = rawSeconds
            self.pullingDevicePeakMiB = pullingDevicePeakMiB
            self.identical = identical
        }
    }

    /// The repeated runs at the measuring size.
    public var runs: [Run]
    /// The run at the full size (bootstrap of many customers, memory of a device pulling many changes), if made.
    public var full: Run?

    public init(runs: [Run], full: Run?) {
        self.runs = runs
        self.full = full
    }

    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path))
    }

    public static func read(from path: String) throws -> SyncResult {
        try JSONDecoder().decode(SyncResult.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }
}
