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
            change log and the merged state in an embedded SQLite database, or, with
            --postgres, in a PostgreSQL database that any number of instances share.
            Every option can also come from an environment variable (shown in each help).
            """,
        subcommands: [
            Serve.self, Token.self, AdminToken.self, CustomerAdmin.self, Audit.self, ExportState.self, Migrate.self, Backup.self, Restore.self,
            RenewIdentity.self, Compact.self,
        ],
        defaultSubcommand: Serve.self)
}

/// Options every subcommand that touches the database shares.
struct DataOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Where the embedded SQLite database lives (env OXPECKER_DATA_DIR).")
    var dataDirectory: String = ProcessInfo.processInfo.environment["OXPECKER_DATA_DIR"] ?? "oxpecker-data"

    @Option(
        name: .customLong("postgres"),
        help: "Keep everything in PostgreSQL instead, shared by every instance: postgres://user:password@host:5432/db?sslmode=prefer (env OXPECKER_POSTGRES_URL).")
    var postgres: String = ProcessInfo.processInfo.environment["OXPECKER_POSTGRES_URL"] ?? ""

    @Option(
        name: .customLong("postgres-timeout"),
        help: "PostgreSQL: the longest a statement or a storage call may take, in seconds, before the request fails with 503 storage_unavailable (env OXPECKER_POSTGRES_TIMEOUT).")
    var postgresTimeout: Int = ProcessInfo.processInfo.environment["OXPECKER_POSTGRES_TIMEOUT"].flatMap { Int($0) } ?? 15

    @Option(
        name: .customLong("postgres-connections"),
        help: "PostgreSQL: the most connections this instance opens (env OXPECKER_POSTGRES_CONNECTIONS).")
    var postgresConnections: Int = ProcessInfo.processInfo.environment["OXPECKER_POSTGRES_CONNECTIONS"].flatMap { Int($0) } ?? 20

    @Option(
        name: .customLong("key-file"),
        help: "Keep personal data encrypted under the key in this file, readable by its owner only; new data is made encrypted, and a missing file is made with a new key for new data (env OXPECKER_SERVER_KEY_FILE). Needs --key-store.")
    var keyFile: String = ProcessInfo.processInfo.environment["OXPECKER_SERVER_KEY_FILE"] ?? ""

    @Option(
        name: .customLong("key-store"),
        help: "With --key-file: the key store that holds each customer's data key, apart from the data and its backups; made if the data is new. Embedded SQLite: a file outside the data folder. PostgreSQL: the postgres:// URL of another database, shared by every instance (env OXPECKER_KEY_STORE).")
    var keyStore: String = ProcessInfo.processInfo.environment["OXPECKER_KEY_STORE"] ?? ""

    /// The PostgreSQL URL, if the server is to use PostgreSQL.
    var postgresURL: String? { postgres.isEmpty ? nil : postgres }

    func validate() throws {
        guard postgresTimeout > 0 else { throw ValidationError("--postgres-timeout must be positive") }
        guard postgresConnections > 0 else { throw ValidationError("--postgres-connections must be positive") }
        if let postgresURL { _ = try postgresSettings(postgresURL) }
        guard keyFile.isEmpty == keyStore.isEmpty else { throw ValidationError("--key-file and --key-store go together") }
        let keyStoreIsURL = keyStore.hasPrefix("postgres://") || keyStore.hasPrefix("postgresql://")
        if !keyStore.isEmpty, postgresURL != nil, !keyStoreIsURL {
            throw ValidationError("--key-store: with --postgres the key store is another PostgreSQL database, shared by every instance: give its postgres:// URL")
        }
        if keyStoreIsURL, postgresURL == nil {
            throw ValidationError("--key-store: a PostgreSQL key store goes with --postgres; the embedded backend keeps its keys in a file outside the data folder")
        }
    }

    /// The encryption of the server's data, if a key is given: a missing key file is made
    /// with a new key (mode 0600) when the data is new (`dataIsNew`), never for existing data.
    func encryption(dataIsNew: Bool) throws -> ServerEncryption? {
        guard !keyFile.isEmpty else { return nil }
        if !FileManager.default.fileExists(atPath: keyFile), dataIsNew {
            try StoreKey.generate().writeKeyFile(to: keyFile)
            FileHandle.standardError.write(
                Data("wrote a new server key to \(keyFile) (mode 0600): keep a copy apart from the data and the key store; losing it loses the data\n".utf8))
        }
        return ServerEncryption(key: try StoreKey.keyFile(keyFile), keyStore: keyStore)
    }

    /// Where the data is, for the startup line (never a password).
    var location: String {
        if let postgresURL, let settings = try? PostgresSettings(url: postgresURL) { return settings.redacted }
        return dataDirectory
    }

    private func postgresSettings(_ url: String) throws -> PostgresSettings {
        do {
            var settings = try PostgresSettings(url: url)
            settings.statementTimeout = .seconds(postgresTimeout)
            settings.maximumConnections = postgresConnections
            return settings
        } catch let error as ServerError {
            throw ValidationError("--postgres: \(error.message)")
        }
    }

    /// Opens the storage (PostgreSQL: connects and applies the migrations); a PostgreSQL that cannot be
    /// reached or used exits with a message and status 4.
    func openStorage(logger: Logger = Logger(label: "oxpecker-server")) async throws -> any ServerStorage {
        do {
            if let postgresURL {
                let settings = try postgresSettings(postgresURL)
                let encryption = try encryption(dataIsNew: await PostgresServerStorage.isNew(settings, logger: logger))
                return try await PostgresServerStorage.connect(settings, encryption: encryption, logger: logger)
            }
            let dataExists = FileManager.default.fileExists(atPath: (dataDirectory as NSString).appendingPathComponent("server.oxpecker"))
            return try SQLiteServerStorage(dataDirectory: dataDirectory, encryption: try encryption(dataIsNew: !dataExists))
        } catch let error as ValidationError {
            throw error
        } catch let error as ServerError {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            throw ExitCode(4)
        } catch let error as StoreError {
            switch error {
            case .keyRequired, .wrongKey, .notEncrypted, .keyUnusable:
                // The data's key or key store does not fit: nothing was read or written (as `oxpecker`'s status 9).
                FileHandle.standardError.write(Data("error: \(Self.serverWording(error))\n".utf8))
                throw ExitCode(9)
            default:
                throw ValidationError("cannot open the data directory '\(dataDirectory)': \(error)")
            }
        } catch {
            throw ValidationError("cannot open the data directory '\(dataDirectory)': \(error)")
        }
    }
}

extension DataOptions {
    /// A key error in the server's words (the store's speak of `oxpecker`'s options).
    static func serverWording(_ error: StoreError) -> String {
        switch error {
        case .keyRequired(let path): "the server's data '\(path)' is encrypted: give its key and key store (--key-file and --key-store)"
        case .notEncrypted(let path): "the server's data '\(path)' is not encrypted, but a key was given: encrypting existing server data is not supported yet; start without --key-file"
        default: error.description
        }
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply the database's schema migrations and exit (serve also applies them at start).")
    @OptionGroup var data: DataOptions

    func run() async throws {
        let storage = try await data.openStorage()
        if let postgres = storage as? PostgresServerStorage { await postgres.shutdown() }
        print("migrated \(data.location)")
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

    @Flag(help: "Serve GET /metrics without a token, for a scraper on a private network (env OXPECKER_METRICS_WITHOUT_TOKEN=1); by default it needs an admin token.")
    var metricsWithoutToken = false

    @OptionGroup var compaction: CompactionOptions

    @Option(
        name: .customLong("compact-every-hours"),
        help: "Compact the log by itself every this many hours, the first time a minute after start; 0: never (run `compact`) (env OXPECKER_COMPACT_EVERY_HOURS).")
    var compactEveryHours: Int = ProcessInfo.processInfo.environment["OXPECKER_COMPACT_EVERY_HOURS"].flatMap { Int($0) } ?? 24

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535, not \(port)") }
        guard maxClockSkew > 0 else { throw ValidationError("--max-clock-skew must be positive") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level '\(logLevel)'") }
        guard compactEveryHours >= 0 else { throw ValidationError("--compact-every-hours must be 0 (never) or more, not \(compactEveryHours)") }
    }

    func run() async throws {
        var logger = Logger(label: "oxpecker-server")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        var configuration = ServerConfiguration(
            host: host, port: port, dataDirectory: data.dataDirectory, maximumClockSkewMillis: Int64(maxClockSkew) * 1000)
        configuration.tls = security.tls
        configuration.jwt = try security.jwt()
        configuration.compaction =
            compactEveryHours == 0 ? nil : CompactionSchedule(policy: compaction.policy, interval: .seconds(compactEveryHours * 3600))
        configuration.metricsWithoutToken = metricsWithoutToken || ProcessInfo.processInfo.environment["OXPECKER_METRICS_WITHOUT_TOKEN"] == "1"
        if let warning = security.plainHTTPWarning(host: host) { logger.warning("\(warning)") }
        let storage = try await data.openStorage(logger: logger)
        let (scheme, host, location) = (configuration.tls == nil ? "http" : "https", configuration.host, data.location)
        let app = try await buildApplication(configuration: configuration, storage: storage, logger: logger) { port in
            // One line on stdout that scripts and tests wait for.
            let line = "oxpecker-server listening on \(scheme)://\(host):\(port) (data: \(location))\n"
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
    @OptionGroup var actor: AuditActor

    func run() async throws {
        FileHandle.standardOutput.write(Data(try await data.openStorage().exportState(by: actor.by, at: AuditActor.now).utf8))
    }
}
