import ArgumentParser
import Foundation
import GRDB
import Logging
import OxpeckerProtocol
import OxpeckerServer
import OxpeckerStore
import OxpeckerSync

/// Sync throughput over loopback HTTP with the real server (embedded SQLite),
/// in one run, against raw SQLite inserts of the same number of rows:
/// upstream (a device pushes N changes), downstream (a second device pulls
/// them), and bootstrap (a new device gets C customers as a snapshot).
@main
struct SyncBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oxpecker-sync-bench",
        abstract: "Push, pull and bootstrap through a real oxpecker-server on loopback, with raw SQLite as the baseline.")

    @Option(help: "Customers on the first device (each gets 10 field values and 2 notes: 13 changes with its creation).")
    var customers: Int = 100_000

    @Flag(help: "A small run (5,000 customers) to check that it works.")
    var quick = false

    @Option(help: "Also write the results as a Markdown table to this file.")
    var markdown: String?

    func run() async throws {
        let count = quick ? 5_000 : customers
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("oxpecker-sync-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

        var logger = Logger(label: "oxpecker-sync-bench")
        logger.logLevel = .warning
        let storage = try SQLiteServerStorage(dataDirectory: path("server"))
        let token = try await storage.createToken(
            name: "bench", scopes: (0..<20).map { "branch:B\($0)" }, expiresAt: nil, now: Instant(millisecondsSince1970: WallClock.system.now()))
        let (port, server) = try await startServer(storage: storage, logger: logger, folder: path("server"))
        defer { server.cancel() }
        let url = "http://127.0.0.1:\(port)"
        func client(_ store: CustomerStore) throws -> SyncClient {
            var configuration = SyncConfiguration(server: url, token: token.secret)
            configuration.pushBatchSize = 500
            configuration.pullPageSize = 1000
            configuration.bootstrapPageSize = 200
            return try SyncClient(store: store, configuration: configuration, logger: logger)
        }

        note("filling device A with \(count) customers …")
        let a = try CustomerStore.create(at: path("a.oxpecker"), options: StoreOptions(durability: .normal))
        try fill(a, customers: count)
        let changes = try a.readNow { try $0.outboxCount() }
        let b = try CustomerStore.create(at: path("b.oxpecker"), options: StoreOptions(durability: .normal))
        _ = try await client(b).sync()  // B is bootstrapped (empty) before A pushes: it will pull A's changes

        note("A pushes \(changes) changes …")
        let (pushSummary, pushSeconds) = try await timedAsync { try await client(a).sync() }
        note("B pulls them …")
        let (pullSummary, pullSeconds) = try await timedAsync { try await client(b).sync() }
        note("C bootstraps …")
        let c = try CustomerStore.create(at: path("c.oxpecker"), options: StoreOptions(durability: .normal))
        let (bootSummary, bootSeconds) = try await timedAsync { try await client(c).sync() }
        let peakKiB = peakResidentKiB()

        note("baseline: raw SQLite inserts of \(changes) rows …")
        let rawSeconds = try rawInsert(rows: changes, at: path("raw.sqlite"))

        let same = try exportText(b) == exportText(a) && exportText(c) == exportText(a)
        let rows: [(String, String, String, String)] = [
            ("upstream: A pushes \(pushSummary.pushed) changes (sync incl. pulling them back)", rate(pushSummary.pushed, pushSeconds), "≥ 50k/s downstream goal is for pull", ratio(pushSeconds, rawSeconds)),
            ("downstream: B pulls \(pullSummary.pulled) changes and applies them", rate(pullSummary.pulled, pullSeconds), "≥ 50,000 changes/s", ratio(pullSeconds, rawSeconds)),
            ("bootstrap: C gets \(bootSummary.bootstrappedCustomers) customers (\(bootSummary.bootstrappedChanges) changes)", seconds(bootSeconds), "≤ 10 s for 100k customers", ratio(bootSeconds, rawSeconds)),
            ("baseline: raw SQLite inserts of \(changes) rows, one transaction per 1,000", rate(changes, rawSeconds), "", "1×"),
        ]
        var lines = ["| figure | result | goal | time vs raw SQLite |", "| --- | --- | --- | --- |"]
        lines += rows.map { "| \($0.0) | \($0.1) | \($0.2) | \($0.3) |" }
        lines.append("")
        lines.append("Exports of A, B and C identical: \(same ? "yes" : "NO"). Peak resident memory of this process (server and three devices together): \(peakKiB / 1024) MiB.")
        print(lines.joined(separator: "\n"))
        if let markdown { try lines.joined(separator: "\n").appending("\n").write(toFile: markdown, atomically: true, encoding: .utf8) }
        guard same else { throw ExitCode.failure }
    }

    func fill(_ store: CustomerStore, customers: Int) throws {
        let stages = Stage.allCases
        for start in stride(from: 0, to: customers, by: 500) {
            try store.writeNow { writer in
                for index in start..<min(start + 500, customers) {
                    let id = CustomerID(unchecked: String(format: "c-%07d", index))
                    try writer.createCustomer(id, in: ["branch:B\(index % 20)"])
                    try writer.set(.legalName, to: "Customer \(index) Novák", of: id)
                    try writer.set(.preferredName, to: "C\(index)", of: id)
                    try writer.set(.stage, to: stages[index % stages.count], of: id)
                    try writer.set(.advisor, to: "a-\(index % 50)", of: id)
                    try writer.set(.segment, to: "segment_\(index % 7)", of: id)
                    try writer.set(.language, to: "cs", of: id)
                    try writer.set(.doNotContact, to: index % 11 == 0, of: id)
                    try writer.set(.stageReason, to: "reason \(index % 13)", of: id)
                    try writer.add("sailing", to: .interests, of: id)
                    try writer.addNote(NewNote(text: "Talked about savings and the flat renovation \(index)", author: "a-1", channel: .branch), to: id)
                    try writer.addNote(NewNote(text: "Follow-up call on card limits", author: "a-2", channel: .phone), to: id)
                }
            }
        }
    }

    func rawInsert(rows: Int, at path: String) throws -> Double {
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "CREATE TABLE change (number INTEGER PRIMARY KEY, hlc TEXT, customer TEXT, field TEXT, value TEXT)")
        }
        let clock = ContinuousClock()
        let start = clock.now
        for batch in stride(from: 0, to: rows, by: 1000) {
            try queue.write { db in
                let statement = try db.makeStatement(sql: "INSERT INTO change VALUES (?, ?, ?, ?, ?)")
                for number in batch..<min(batch + 1000, rows) {
                    try statement.execute(arguments: [number + 1, "001764000000000-000000-raw", "c-\(number / 13)", "field", "\"value \(number)\""])
                }
            }
        }
        return (clock.now - start).seconds
    }

    func startServer(storage: SQLiteServerStorage, logger: Logger, folder: String) async throws -> (Int, Task<Void, any Error>) {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = try await buildApplication(
            configuration: ServerConfiguration(port: 0, dataDirectory: folder), storage: storage, logger: logger
        ) { port in continuation.yield(port) }
        let task = Task { try await app.run() }
        for await port in ports { return (port, task) }
        throw ExitCode.failure
    }

    func exportText(_ store: CustomerStore) throws -> String {
        var text = ""
        try store.readNow { try $0.exportJSON { text += $0 } }
        return text
    }

    func note(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
    func rate(_ count: Int, _ seconds: Double) -> String { "\(Int(Double(count) / seconds)) changes/s (\(self.seconds(seconds)))" }
    func seconds(_ value: Double) -> String { String(format: "%.2f s", value) }
    func ratio(_ value: Double, _ baseline: Double) -> String { String(format: "%.1f×", value / baseline) }

    func peakResidentKiB() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
}

func timedAsync<T>(_ body: () async throws -> T) async rethrows -> (T, Double) {
    let clock = ContinuousClock()
    let start = clock.now
    let result = try await body()
    return (result, (clock.now - start).seconds)
}

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }
}
