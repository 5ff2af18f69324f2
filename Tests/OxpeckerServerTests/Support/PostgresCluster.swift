import Foundation
import Testing

/// A PostgreSQL cluster of one test's own (`.ci/postgres-cluster.sh`), for a
/// test that restarts the database and must not disturb the others.
/// Needs the PostgreSQL 15 binaries and root (or the postgres user).
final class PostgresCluster: Sendable {
    let directory: String
    /// The server's URL (its `postgres` database).
    let url: String

    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".ci/postgres-cluster.sh").path

    /// Whether this machine can start one.
    static let available: Bool =
        FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/15/bin/pg_ctl") && (getuid() == 0 || NSUserName() == "postgres")

    static func start() async throws -> PostgresCluster {
        let result = try await run(["start"])
        var values: [String: String] = [:]
        for line in result.split(separator: "\n") where line.hasPrefix("export ") {
            let pair = line.dropFirst("export ".count).split(separator: "=", maxSplits: 1)
            if pair.count == 2 { values[String(pair[0])] = String(pair[1]) }
        }
        return PostgresCluster(directory: try #require(values["PGCLUSTER_DIR"]), url: try #require(values["OXPECKER_TEST_POSTGRES_URL"]))
    }

    private init(directory: String, url: String) {
        self.directory = directory
        self.url = url
    }

    /// Restarts the server: a fast shutdown (open sessions are ended, as in a failover), then a start.
    func restart() async throws {
        _ = try await Self.run(["restart", directory])
    }

    /// Stops the cluster and removes its folder.
    func stop() async {
        _ = try? await Self.run(["stop", directory])
    }

    /// Runs the script; its standard output, or a failed expectation with its error output.
    private static func run(_ arguments: [String]) async throws -> String {
        let result = try await ChildProcess(URL(fileURLWithPath: "/bin/bash"), [script] + arguments, in: URL(fileURLWithPath: "/tmp"))
            .wait(timeout: .seconds(120))
        try #require(result.succeeded, "postgres-cluster.sh \(arguments.joined(separator: " ")) failed: \(result.stderr)")
        return result.stdout
    }
}
