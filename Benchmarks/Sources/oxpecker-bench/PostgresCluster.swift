import Foundation

/// A throwaway PostgreSQL cluster on a loopback port, made and stopped by the
/// same script CI and the tests use (`.ci/postgres-cluster.sh`, run from the
/// repository root); each load run gets a new empty database. Stopped by ``stop()``.
///
/// The script, not `pg_ctl` started from here: the postmaster `pg_ctl` leaves
/// running inherits the descriptors of whoever started it, and Foundation's
/// `Process` then waits for the postmaster to end before it reports the
/// starter's exit (the benchmark hung there).
final class PostgresCluster {
    /// The cluster's folder (PGCLUSTER_DIR of the script).
    let folder: String
    /// The URL of its `postgres` database.
    let url: String
    let pid: Int32
    private var databases = 0

    static let script = ".ci/postgres-cluster.sh"

    /// Starts a cluster, or returns nil (with the reason) when it cannot.
    static func start(in directory: String, progress: (String) -> Void) -> PostgresCluster? {
        guard FileManager.default.fileExists(atPath: script) else {
            progress("  no \(script) here (run from the repository root): skipping the PostgreSQL figures")
            return nil
        }
        do {
            let output = try run("/bin/bash", [script, "start"], in: directory)
            var values: [String: String] = [:]
            for line in output.split(separator: "\n") where line.hasPrefix("export ") {
                let pair = line.dropFirst("export ".count).split(separator: "=", maxSplits: 1)
                if pair.count == 2 { values[String(pair[0])] = String(pair[1]) }
            }
            guard let folder = values["PGCLUSTER_DIR"], let url = values["OXPECKER_TEST_POSTGRES_URL"] else {
                throw BenchmarkFailure("\(script) start printed no cluster: \(output.suffix(300))")
            }
            let pidText = (try? String(contentsOfFile: folder + "/data/postmaster.pid", encoding: .utf8)) ?? ""
            return PostgresCluster(folder: folder, url: url, pid: Int32(pidText.split(separator: "\n").first ?? "") ?? 0)
        } catch {
            progress("  PostgreSQL did not start (\(error)): skipping the PostgreSQL figures")
            return nil
        }
    }

    private init(folder: String, url: String, pid: Int32) {
        self.folder = folder
        self.url = url
        self.pid = pid
    }

    /// A new empty database; its URL.
    func newDatabase() throws -> String {
        databases += 1
        let name = "oxpecker_load_\(databases)"
        _ = try Self.run("/usr/bin/psql", [url, "-q", "-c", "CREATE DATABASE \(name)"], in: folder)
        return String(url.dropLast("postgres".count)) + name  // the URL ends with /postgres
    }

    func stop() {
        _ = try? Self.run("/bin/bash", [Self.script, "stop", folder], in: FileManager.default.currentDirectoryPath)
    }

    /// Runs a command with its output in files (never pipes); its standard output, or a failure with its errors.
    private static func run(_ executable: String, _ arguments: [String], in directory: String) throws -> String {
        let name = directory + "/.postgres-command-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: name + ".out", contents: nil)
        _ = FileManager.default.createFile(atPath: name + ".err", contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: name + ".out")
            try? FileManager.default.removeItem(atPath: name + ".err")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: name + ".out"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: name + ".err"))
        try process.run()
        while process.isRunning { usleep(10_000) }
        process.waitUntilExit()
        let output = (try? String(contentsOfFile: name + ".out", encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            let errors = (try? String(contentsOfFile: name + ".err", encoding: .utf8)) ?? ""
            throw BenchmarkFailure("\(URL(fileURLWithPath: executable).lastPathComponent) \(arguments.first ?? "") failed: \(errors.suffix(500))")
        }
        return output
    }
}
