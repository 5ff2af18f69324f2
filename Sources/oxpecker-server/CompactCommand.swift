import ArgumentParser
import Foundation
import OxpeckerProtocol
import OxpeckerServer

/// The log compaction rule's two durations (``CompactionPolicy``), for `compact` and `serve`.
struct CompactionOptions: ParsableArguments {
    @Option(
        name: .customLong("horizon-days"),
        help: "A device not synced for this many days bootstraps again (keeping its unpushed changes); superseded register writes older than this leave the log (env OXPECKER_HORIZON_DAYS).")
    var horizonDays: Int = ProcessInfo.processInfo.environment["OXPECKER_HORIZON_DAYS"].flatMap { Int($0) } ?? 90

    @Option(
        name: .customLong("tombstone-retention-days"),
        help: "An erased customer's tombstone is kept at least this many days, and until no device holds it; it must be longer than any device stays offline (env OXPECKER_TOMBSTONE_RETENTION_DAYS).")
    var tombstoneRetentionDays: Int = ProcessInfo.processInfo.environment["OXPECKER_TOMBSTONE_RETENTION_DAYS"].flatMap { Int($0) } ?? 400

    func validate() throws {
        guard horizonDays >= 1 else { throw ValidationError("--horizon-days must be at least 1, not \(horizonDays)") }
        guard tombstoneRetentionDays >= horizonDays else {
            throw ValidationError(
                "--tombstone-retention-days (\(tombstoneRetentionDays)) must be at least --horizon-days (\(horizonDays)): a device may come back until the horizon")
        }
    }

    var policy: CompactionPolicy {
        CompactionPolicy(horizonMillis: Int64(horizonDays) * 86_400_000, tombstoneRetentionMillis: Int64(tombstoneRetentionDays) * 86_400_000)
    }
}

struct Compact: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compact the change log and the side tables now, by the rule of README \"Log compaction\" (the server also runs it by itself).",
        discussion: """
            Safe while the server runs (on PostgreSQL, from any machine): short transactions, pushes and pulls go on. \
            Removes the subscriptions of devices not synced for --horizon-days (or whose token is revoked or expired; \
            such a device bootstraps again at its next sync and keeps its unpushed changes), the superseded register \
            writes received before the horizon, the records those devices left, and the tombstones of customers erased \
            more than --tombstone-retention-days ago that no device holds. Prints what it removed. \
            Exit status 3: no server database in --data-dir; 4: the storage cannot be reached.
            """)
    @OptionGroup var data: DataOptions
    @OptionGroup var compaction: CompactionOptions

    func run() async throws {
        let database = (data.dataDirectory as NSString).appendingPathComponent("server.oxpecker")
        if data.postgresURL == nil, !FileManager.default.fileExists(atPath: database) {
            // Never make an empty database for a mistyped folder.
            FileHandle.standardError.write(Data("error: no server database in '\(data.dataDirectory)' (\(database)): nothing to compact\n".utf8))
            throw ExitCode(3)
        }
        let storage = try await data.openStorage()
        let now = AuditActor.now
        let result: Result<CompactionReport, any Error>
        do { result = .success(try await storage.compact(compaction.policy, at: now)) } catch { result = .failure(error) }
        if let postgres = storage as? PostgresServerStorage { await postgres.shutdown() }
        switch result {
        case .success(let report): print("compacted \(data.location): \(report.summary)")
        case .failure(let error as ServerError):
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            throw ExitCode(4)
        case .failure(let error): throw error
        }
    }
}
