import ArgumentParser
import Foundation
import Logging
import OxpeckerProtocol
import OxpeckerServer
import OxpeckerStore

@main
struct OxpeckerServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oxpecker-server",
        abstract: "The Oxpecker sync server.",
        discussion: """
            Devices push their changes to it and pull everyone else's; it keeps the
            change log and the merged state in an embedded SQLite database.
            Every option can also come from an environment variable (shown in each help).
            """,
        subcommands: [Serve.self, Token.self, AdminToken.self, CustomerAdmin.self, Audit.self, ExportState.self],
        defaultSubcommand: Serve.self)
}

/// Options every subcommand that touches the database shares.
struct DataOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Where the database lives (env OXPECKER_DATA_DIR).")
    var dataDirectory: String = ProcessInfo.processInfo.environment["OXPECKER_DATA_DIR"] ?? "oxpecker-data"

    func openStorage() throws -> SQLiteServerStorage {
        do {
            return try SQLiteServerStorage(dataDirectory: dataDirectory)
        } catch {
            throw ValidationError("cannot open the data directory '\(dataDirectory)': \(error)")
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server until SIGTERM or SIGINT (the default command).")

    @OptionGroup var data: DataOptions
    @OptionGroup var security: SecurityOptions

    @Option(help: "The interface to listen on (env OXPECKER_HOST); 0.0.0.0 serves every interface.")
    var host: String = ProcessInfo.processInfo.environment["OXPECKER_HOST"] ?? "127.0.0.1"

    @Option(help: "The TCP port (env OXPECKER_PORT); 0 picks a free one and prints it.")
    var port: Int = ProcessInfo.processInfo.environment["OXPECKER_PORT"].flatMap { Int($0) } ?? 8080

    @Option(help: "Refuse changes stamped more than this many seconds ahead of the server's clock (env OXPECKER_MAX_CLOCK_SKEW).")
    var maxClockSkew: Int = ProcessInfo.processInfo.environment["OXPECKER_MAX_CLOCK_SKEW"].flatMap { Int($0) } ?? 300

    @Option(help: "trace, debug, info, notice, warning, error or critical (env OXPECKER_LOG_LEVEL).")
    var logLevel: String = ProcessInfo.processInfo.environment["OXPECKER_LOG_LEVEL"] ?? "info"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535, not \(port)") }
        guard maxClockSkew > 0 else { throw ValidationError("--max-clock-skew must be positive") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level '\(logLevel)'") }
    }

    func run() async throws {
        var logger = Logger(label: "oxpecker-server")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        var configuration = ServerConfiguration(
            host: host, port: port, dataDirectory: data.dataDirectory, maximumClockSkewMillis: Int64(maxClockSkew) * 1000)
        configuration.tls = security.tls
        configuration.jwt = try security.jwt()
        if let warning = security.plainHTTPWarning(host: host) { logger.warning("\(warning)") }
        let storage = try data.openStorage()
        let (scheme, host, dataDirectory) = (configuration.tls == nil ? "http" : "https", configuration.host, configuration.dataDirectory)
        let app = try await buildApplication(configuration: configuration, storage: storage, logger: logger) { port in
            // One line on stdout that scripts and tests wait for.
            let line = "oxpecker-server listening on \(scheme)://\(host):\(port) (data: \(dataDirectory))\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        }
        try await app.runService()
    }
}

extension Token {
    struct SetScopes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-scopes",
            abstract: "Replace a token's scopes; at its next sync the device purges the customers it no longer sees and receives those it now sees.")
        @OptionGroup var data: DataOptions
        @Argument(help: "The token's id, as `token list` shows it.") var id: String
        @Option(help: "A scope the device may see (repeat for several); none: the device sees no customer.") var scope: [String] = []

        func validate() throws {
            for scope in scope where !ScopeRule.accepts(scope) {
                throw ValidationError("invalid scope '\(scope)': use kind:id, like branch:HN01")
            }
        }

        func run() async throws {
            let now = Instant(millisecondsSince1970: WallClock.system.now())
            guard try await data.openStorage().setTokenScopes(id: id, scopes: scope, at: now) else {
                FileHandle.standardError.write(Data("error: no token '\(id)'\n".utf8))
                throw ExitCode(3)
            }
            print("token \(id) now has scopes: \(scope.isEmpty ? "(none)" : scope.joined(separator: ","))")
        }
    }
}

struct ExportState: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Print the server's merged state as canonical JSON (the same form as `oxpecker export`).")
    @OptionGroup var data: DataOptions

    func run() async throws {
        FileHandle.standardOutput.write(Data(try await data.openStorage().exportState().utf8))
    }
}
