import ArgumentParser
import Foundation
import GRDB
import Logging
import OxpeckerProtocol
import OxpeckerServer
import OxpeckerStore
import OxpeckerSync

/// A year-like history on the real server (embedded SQLite, in this process, on
/// loopback): device A makes C customers, then edits each one's profile fields in
/// R rounds (one sync each, as a year of visits would), then the log is compacted
/// as of 91 days later (`CompactionPolicy`'s default horizon). Measured before and
/// after, in one run: the log's changes, the database's live bytes, and the
/// bootstrap of a new store over HTTP (fresh stores, `--bootstraps` each side).
struct CompactionBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compaction", abstract: "Log size and bootstrap time after a year-like history, before and after log compaction.")

    @Option(help: "Customers on device A (13 changes each at creation).")
    var customers: Int = 2_000

    @Option(help: "Rounds of edits; each round writes 4 profile fields of every customer, then syncs.")
    var rounds: Int = 12

    @Option(help: "Bootstraps of a new store on each side of the compaction.")
    var bootstraps: Int = 3

    func validate() throws {
        guard customers >= 1, rounds >= 1, bootstraps >= 1 else { throw ValidationError("--customers, --rounds and --bootstraps must be at least 1") }
    }

    func run() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("oxpecker-compaction-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func path(_ name: String) -> String { folder.appendingPathComponent(name).path }
        var logger = Logger(label: "oxpecker-sync-bench")
        logger.logLevel = .warning
        let run = SyncRun(customers: customers)
        let storage = try SQLiteServerStorage(dataDirectory: path("server"))
        let token = try await storage.createToken(
            name: "bench", scopes: (0..<20).map { "branch:B\($0)" }, expiresAt: nil, now: Instant(millisecondsSince1970: WallClock.system.now()))
        let (port, server) = try await run.startServer(storage: storage, logger: logger, folder: path("server"))
        defer { server.cancel() }
        let configuration = SyncRun.configuration(server: "http://127.0.0.1:\(port)", token: token.secret)

        note("filling device A with \(customers) customers, then \(rounds) rounds of edits …")
        let a = try CustomerStore.create(at: path("a.oxpecker"), options: StoreOptions(durability: .normal))
        try run.fill(a, customers: customers)
        _ = try await SyncClient(store: a, configuration: configuration, logger: logger).sync()
        for round in 1...rounds {
            try a.writeNow { writer in
                for index in 0..<customers {
                    let id = CustomerID(unchecked: String(format: "c-%07d", index))
                    try writer.set(.preferredName, to: "C\(index) r\(round)", of: id)
                    try writer.set(.segment, to: "segment_\((index + round) % 7)", of: id)
                    try writer.set(.advisor, to: "a-\((index + round) % 50)", of: id)
                    try writer.set(.stageReason, to: "reason \(round) of \(index % 13)", of: id)
                }
            }
            _ = try await SyncClient(store: a, configuration: configuration, logger: logger).sync()
        }

        func bootstrap(_ name: String) async throws -> (seconds: Double, export: String) {
            let store = try CustomerStore.create(at: path("\(name).oxpecker"), options: StoreOptions(durability: .normal))
            let (_, seconds) = try await timedAsync { try await SyncClient(store: store, configuration: configuration, logger: logger).sync() }
            return (seconds, try run.exportText(store))
        }
        func liveBytes() throws -> Int {
            let queue = try DatabaseQueue(path: path("server/server.oxpecker"))
            defer { try? queue.close() }
            return try queue.read { db in
                try Int.fetchOne(db, sql: "SELECT (page_count - freelist_count) * page_size FROM pragma_page_count, pragma_freelist_count, pragma_page_size") ?? 0
            }
        }

        let changesBefore = try await storage.statistics().logChanges
        let bytesBefore = try liveBytes()
        var before: [Double] = []
        var expected = ""
        for index in 1...bootstraps {
            note("bootstrap \(index) of \(bootstraps) before compaction …")
            let (seconds, export) = try await bootstrap("before-\(index)")
            before.append(seconds)
            expected = export
        }
        note("compacting as of 91 days later …")
        let later = Instant(millisecondsSince1970: WallClock.system.now() + 91 * 86_400_000)
        let (report, compactSeconds) = try await timedAsync { try await storage.compact(CompactionPolicy(), at: later) }
        let bytesAfter = try liveBytes()
        var after: [Double] = []
        var identical = true
        for index in 1...bootstraps {
            note("bootstrap \(index) of \(bootstraps) after compaction …")
            let (seconds, export) = try await bootstrap("after-\(index)")
            after.append(seconds)
            identical = identical && export == expected
        }
        let (medianBefore, medianAfter) = (median(before), median(after))
        print(
            """
            year-like history: \(customers) customers, \(rounds) rounds of 4 field edits each (\(changesBefore) changes)
            compaction: \(report.summary), in \(String(format: "%.2f", compactSeconds)) s
            log changes: \(changesBefore) → \(report.logChanges) (\(ratio(Double(report.logChanges), Double(changesBefore))))
            database live bytes: \(bytesBefore) → \(bytesAfter) (\(ratio(Double(bytesAfter), Double(bytesBefore))))
            bootstrap of a new store, median of \(bootstraps): \(String(format: "%.2f", medianBefore)) s → \(String(format: "%.2f", medianAfter)) s (\(ratio(medianAfter, medianBefore))); \
            before \(before.map { String(format: "%.2f", $0) }.joined(separator: ", ")), after \(after.map { String(format: "%.2f", $0) }.joined(separator: ", "))
            the stores bootstrapped after hold the same state as before: \(identical ? "yes" : "NO")
            """)
        if !identical { throw ExitCode.failure }
    }

    private func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
    private func ratio(_ after: Double, _ before: Double) -> String { String(format: "%.2f×", after / max(before, 1e-9)) }
}
