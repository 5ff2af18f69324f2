import ArgumentParser
import AsyncHTTPClient
import Foundation
import BenchmarkResults
import Logging
import OxpeckerProtocol
import OxpeckerStore
import OxpeckerSync

/// N simulated devices against an Oxpecker server on loopback: offline edit
/// sessions on a shared pool of customers, syncs at random moments; then a final
/// full sync, and the checks that every device equals the server and that every
/// change is in the server's log exactly once.
@main
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oxpecker-load",
        abstract: "Simulates devices editing offline and syncing against an oxpecker-server on loopback; verifies convergence and counts.",
        discussion: """
            Without --server it starts its own oxpecker-server processes (the binary next to this one, or
            --server-binary): one on SQLite in a temporary folder, or --instances N on --postgres URL.
            Examples, from the repository root:
              swift run -c release --package-path Benchmarks oxpecker-load --devices 100 --seconds 30
              swift run -c release --package-path Benchmarks oxpecker-load --devices 500 --scopes 50
              swift run -c release --package-path Benchmarks oxpecker-load --devices 500 --postgres postgres://… --instances 2
              swift run -c release --package-path Benchmarks oxpecker-load --server http://127.0.0.1:8080 --token SECRET
            Exit status: 0 when converged with nothing lost or duplicated and no 5xx; 1 otherwise.
            `oxpecker-load pushes` measures push throughput instead (see its --help).
            """,
        subcommands: [PushThroughputCommand.self])

    @Option(help: "Simulated devices, each with its own store file.")
    var devices: Int = 100

    @Option(help: "How long the devices edit and sync, in seconds (the final sync comes after).")
    var seconds: Double = 30

    @Option(help: "Stop after this many edit operations in all (whichever comes first with --seconds).")
    var operations: Int?

    @Option(help: "The scope every customer is created in; the token (made, or given with --token) must grant it.")
    var scope: String = "branch:LOAD"

    @Option(
        help: """
            Spread the devices over this many scopes (<scope>-0, <scope>-1, …), each with a token and a slice of the pool \
            of its own, so that a pushed change is pulled by the devices of one scope, not by every device (servers this run starts only).
            """)
    var scopes: Int = 1

    @Option(help: "Customers in the shared pool every device edits.")
    var customers: Int = 200

    @Option(help: "Mean pause of a device between two actions, in milliseconds (uniform from 0 to twice this).")
    var thinkMs: Int = 5_000

    @Option(help: "Most edits in one offline session (each session makes 1 to this many).")
    var sessionEdits: Int = 5

    @Option(help: "Chance that a device's next action is a sync rather than an edit session (0 to 1).")
    var syncChance: Double = 0.3

    @Option(help: "Target running servers (comma-separated loopback URLs; devices are spread over them) instead of starting one.")
    var server: String?

    @Option(help: "The device token for --server.")
    var token: String?

    @Option(help: "Start the servers on this PostgreSQL database (a loopback URL) instead of SQLite.")
    var postgres: String?

    @Option(help: "With --postgres: how many oxpecker-server processes to start (devices are spread over them).")
    var instances: Int = 1

    @Option(help: "The PID of the PostgreSQL postmaster, to report the database's CPU time.")
    var postgresPid: Int32?

    @Option(help: "The oxpecker-server binary to start (default: the one next to this executable).")
    var serverBinary: String?

    @Option(help: "Seed of the random edits and timings.")
    var seed: UInt64 = 1

    @Option(help: "Also write the results as JSON to this file (read by oxpecker-bench).")
    var json: String?

    @Option(help: "Where to make the temporary folder for the stores (default: the system's temporary folder).")
    var temporaryDirectory: String?

    func validate() throws {
        guard devices >= 1 else { throw ValidationError("--devices must be at least 1") }
        guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
        if let operations, operations < 1 { throw ValidationError("--operations must be at least 1") }
        guard customers >= 1 else { throw ValidationError("--customers must be at least 1") }
        guard thinkMs >= 0, sessionEdits >= 1 else { throw ValidationError("--think-ms must be ≥ 0 and --session-edits ≥ 1") }
        guard (0...1).contains(syncChance) else { throw ValidationError("--sync-chance must be 0 to 1") }
        guard instances >= 1 else { throw ValidationError("--instances must be at least 1") }
        guard scopes >= 1, scopes <= devices, scopes <= customers else {
            throw ValidationError("--scopes must be at least 1 and at most --devices and --customers")
        }
        if server != nil, scopes > 1 { throw ValidationError("--scopes needs servers this run starts (it makes a token per scope): drop --server") }
        if server != nil, token == nil { throw ValidationError("--server needs --token") }
        if server != nil, postgres != nil { throw ValidationError("use --server or --postgres, not both") }
        if postgres == nil, server == nil, instances > 1 {
            throw ValidationError("several instances need a shared database: add --postgres URL")
        }
        for url in (server.map { $0.split(separator: ",").map(String.init) } ?? []) + (postgres.map { [$0] } ?? []) {
            guard Self.isLoopback(url) else { throw ValidationError(LoadError.notLoopback(url).description) }
        }
    }

    /// Whether `url`'s host is 127.0.0.0/8, ::1 or localhost.
    static func isLoopback(_ url: String) -> Bool {
        guard let host = URLComponents(string: url)?.host?.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]")) else {
            return false
        }
        return host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// The scopes customers are created in: `--scope` itself, or `--scopes` of them named after it.
    var scopeNames: [String] {
        scopes == 1 ? [scope] : (0..<scopes).map { "\(scope)-\($0)" }
    }

    func run() async throws {
        let parent = temporaryDirectory ?? FileManager.default.temporaryDirectory.path
        let folder = parent + "/oxpecker-load-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }

        let fleet = try ServerFleet.start(options: self, folder: folder)
        defer { fleet.stop() }
        note("\(devices) devices against \(fleet.urls.joined(separator: ", ")) (\(fleet.backend)); stores in \(folder)")

        var http = HTTPClient.Configuration()
        http.redirectConfiguration = .disallow
        http.timeout = HTTPClient.Configuration.Timeout(connect: .seconds(10), read: .seconds(120))
        http.connectionPool = HTTPClient.Configuration.ConnectionPool(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(8, devices))
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: http)
        do {
            let result = try await LoadRun(options: self, fleet: fleet, client: client, folder: folder).run()
            try await client.shutdown()
            print(LoadRun.text(result))
            if let json { try result.write(to: json) }
            guard result.passed else { throw ExitCode.failure }
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}

func note(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
