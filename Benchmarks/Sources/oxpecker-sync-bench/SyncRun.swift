import ArgumentParser
import BenchmarkResults
import Foundation
import GRDB
import Logging
import OxpeckerProtocol
import OxpeckerServer
import OxpeckerStore
import OxpeckerSync

/// One run in a fresh folder: a server in this process (embedded SQLite, on a
/// loopback port), device A filled with `customers` and pushing them, device B
/// (a child process) pulling them, device C bootstrapping, raw SQLite inserts of
/// as many rows.
struct SyncRun {
    let customers: Int
    /// The server's data encrypted, with its key store beside its data folder.
    var encryptedServer = false

    /// Pushes of 500, pull pages of 1,000, bootstrap pages of 200 customers.
    static func configuration(server: String, token: String) -> SyncConfiguration {
        var configuration = SyncConfiguration(server: server, token: token)
        configuration.pushBatchSize = 500
        configuration.pullPageSize = 1000
        configuration.bootstrapPageSize = 200
        return configuration
    }

    func measure() async throws -> SyncResult.Run {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("oxpecker-sync-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

        var logger = Logger(label: "oxpecker-sync-bench")
        logger.logLevel = .warning
        let storage = try SQLiteServerStorage(
            dataDirectory: path("server"),
            encryption: encryptedServer ? ServerEncryption(key: .generate(), keyStore: path("customer-keys.oxpecker-keys")) : nil)
        let token = try await storage.createToken(
            name: "bench", scopes: (0..<20).map { "branch:B\($0)" }, expiresAt: nil, now: Instant(millisecondsSince1970: WallClock.system.now()))
        let (port, server) = try await startServer(storage: storage, logger: logger, folder: path("server"))
        defer { server.cancel() }
        let url = "http://127.0.0.1:\(port)"
        func client(_ store: CustomerStore) throws -> SyncClient {
            try SyncClient(store: store, configuration: Self.configuration(server: url, token: token.secret), logger: logger)
        }

        note("  filling device A with \(customers) customers …")
        let a = try CustomerStore.create(at: path("a.oxpecker"), options: StoreOptions(durability: .normal))
        try fill(a, customers: customers)
        let changes = try a.readNow { try $0.outboxCount() }
        _ = try pullingDevice(server: url, token: token.secret, store: path("b.oxpecker"))  // B bootstraps (empty) before A pushes

        note("  A pushes \(changes) changes …")
        let (_, pushSeconds) = try await timedAsync { try await client(a).sync() }
        note("  B pulls them (a process of its own) …")
        let pull = try pullingDevice(server: url, token: token.secret, store: path("b.oxpecker"))
        guard pull.pulled == changes else { throw ValidationError("B pulled \(pull.pulled) changes, A pushed \(changes)") }
        note("  C bootstraps …")
        let c = try CustomerStore.create(at: path("c.oxpecker"), options: StoreOptions(durability: .normal))
        let (_, bootstrapSeconds) = try await timedAsync { try await client(c).sync() }
        note("  D bootstraps as a device of protocol version 2 (the changes form) …")
        let d = try CustomerStore.create(at: path("d.oxpecker"), options: StoreOptions(durability: .normal))
        let changesForm = try SyncClient(
            store: d, configuration: Self.configuration(server: url, token: token.secret),
            transport: BootstrapVersionTransport(base: try HTTPSyncTransport(server: url), version: 2), logger: logger)
        let (_, changesFormSeconds) = try await timedAsync { try await changesForm.sync() }

        note("  baseline: raw SQLite inserts of \(changes) rows …")
        let rawSeconds = try rawInsert(rows: changes, at: path("raw.sqlite"))

        let b = try CustomerStore.open(at: path("b.oxpecker"), options: StoreOptions(durability: .normal))
        let identical = try exportText(b) == exportText(a) && exportText(c) == exportText(a) && exportText(d) == exportText(a)
        return SyncResult.Run(
            customers: customers, changes: changes, pushSeconds: pushSeconds, pullSeconds: pull.seconds, bootstrapSeconds: bootstrapSeconds,
            bootstrapChangesFormSeconds: changesFormSeconds, rawSeconds: rawSeconds, pullingDevicePeakMiB: pull.peakMiB, identical: identical)
    }

    /// Sends bootstrap requests in protocol `version` (the rest as the client negotiated):
    /// a device of an older release bootstrapping from this server.
    struct BootstrapVersionTransport: SyncTransport {
        let base: HTTPSyncTransport
        let version: Int

        func post(path: String, body: [UInt8], headers: [(name: String, value: String)]) async throws -> TransportResponse {
            guard path == "/v1/bootstrap" else { return try await base.post(path: path, body: body, headers: headers) }
            let pinned = headers.map { $0.name == ProtocolVersion.header ? (name: $0.name, value: String(version)) : $0 }
            return try await base.post(path: path, body: body, headers: pinned)
        }
    }

    /// Runs `oxpecker-sync-bench pulling-device` (this executable) and reads its answer.
    func pullingDevice(server: String, token: String, store: String) throws -> PullingDevice.Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        process.arguments = ["pulling-device", "--server", server, "--token", token, "--store", store]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ValidationError("the pulling device failed (status \(process.terminationStatus))") }
        return try JSONDecoder().decode(PullingDevice.Output.self, from: data)
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
}
