import Foundation

/// A throwaway PostgreSQL cluster under the benchmark's folder, on a loopback
/// port, run as the `postgres` user (initdb and pg_ctl, like CI); each load run
/// gets a new empty database. Stopped by ``stop()``.
final class PostgresCluster {
    let folder: String
    let port: Int
    private(set) var pid: Int32 = 0
    private var databases = 0

    /// Starts a cluster, or returns nil (with the reason) when initdb, pg_ctl or the postgres user is missing.
    static func start(in directory: String, progress: (String) -> Void) -> PostgresCluster? {
        let bin = ["/usr/lib/postgresql/15/bin", "/usr/local/bin", "/usr/bin"].first { FileManager.default.isExecutableFile(atPath: $0 + "/pg_ctl") }
        guard let bin, FileManager.default.isExecutableFile(atPath: "/usr/sbin/runuser") else {
            progress("  no PostgreSQL (initdb/pg_ctl or runuser missing): skipping the PostgreSQL figures")
            return nil
        }
        let cluster = PostgresCluster(folder: directory + "/postgres", port: Int.random(in: 20_000...60_000))
        do {
            try cluster.launch(bin: bin)
            return cluster
        } catch {
            progress("  PostgreSQL did not start (\(error)): skipping the PostgreSQL figures")
            cluster.stop()
            return nil
        }
    }

    private var bin = ""

    private init(folder: String, port: Int) {
        self.folder = folder
        self.port = port
    }

    private func launch(bin: String) throws {
        self.bin = bin
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try asPostgres("chown", ["postgres", folder], asRoot: true)
        try asPostgres(bin + "/initdb", ["-D", folder + "/data", "-U", "postgres", "--auth=trust", "-E", "UTF8"])
        try asPostgres(
            bin + "/pg_ctl",
            ["-D", folder + "/data", "-l", folder + "/log", "-w", "-o", "-p \(port) -k \(folder) -c listen_addresses=127.0.0.1 -c max_connections=300", "start"])
        let pidText = try String(contentsOfFile: folder + "/data/postmaster.pid", encoding: .utf8)
        pid = Int32(pidText.split(separator: "\n").first ?? "") ?? 0
    }

    /// A new empty database; its URL.
    func newDatabase() throws -> String {
        databases += 1
        let name = "oxpecker_load_\(databases)"
        try asPostgres("/usr/bin/psql", ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-q", "-c", "CREATE DATABASE \(name)"])
        return "postgres://postgres@127.0.0.1:\(port)/\(name)"
    }

    func stop() {
        if !bin.isEmpty { try? asPostgres(bin + "/pg_ctl", ["-D", folder + "/data", "-m", "fast", "-w", "stop"]) }
        try? FileManager.default.removeItem(atPath: folder)
    }

    private func asPostgres(_ command: String, _ arguments: [String], asRoot: Bool = false) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: asRoot ? "/usr/bin/env" : "/usr/sbin/runuser")
        process.arguments = asRoot ? [command] + arguments : ["-u", "postgres", "--", command] + arguments
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchmarkFailure("\(URL(fileURLWithPath: command).lastPathComponent) failed: \(text.suffix(500))")
        }
    }
}
