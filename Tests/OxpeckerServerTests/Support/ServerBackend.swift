import Foundation
import Logging
import OxpeckerProtocol
import OxpeckerServer
import OxpeckerStore
import PostgresNIO
import Testing

/// The storage backends the server's tests run against: one set of tests,
/// parameterized. Write a server test as
///
/// ```swift
/// @Test("…", arguments: ServerBackend.all)
/// func something(backend: ServerBackend) async throws {
///     let server = try await ServerHarness.make(backend)        // in-process router
///     try await LiveServer.run(backend) { server in … }         // live on loopback
///     let process = try await SyncServerProcess.start(backend)  // the real binary
/// }
/// ```
///
/// `.sqlite` always runs. `.postgres` runs when `OXPECKER_TEST_POSTGRES_URL`
/// names a PostgreSQL server the tests may create databases on (each test gets
/// a fresh database, dropped afterwards, so tests run in parallel); without
/// it, `ServerBackend.all` holds only `.sqlite` and `PostgresTestGate` says
/// once, in a test of its own, how to run them:
///
/// ```sh
/// eval "$(bash .ci/postgres-cluster.sh start)"   # a throwaway cluster under /tmp
/// swift test
/// bash .ci/postgres-cluster.sh stop "$PGCLUSTER_DIR"
/// ```
enum ServerBackend: String, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    /// Every backend this run can test.
    static let all: [ServerBackend] = postgresURL == nil ? [.sqlite] : [.sqlite, .postgres]

    /// The PostgreSQL server for tests, from `OXPECKER_TEST_POSTGRES_URL`.
    static let postgresURL: String? = ProcessInfo.processInfo.environment["OXPECKER_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }

    /// Why PostgreSQL tests do not run, when they do not.
    static let postgresSkipReason: Comment =
        "PostgreSQL tests skipped: set OXPECKER_TEST_POSTGRES_URL=postgres://user@host:port/db (a server the tests may create databases on); `eval \"$(bash .ci/postgres-cluster.sh start)\"` starts a throwaway one"

    var testDescription: String { rawValue }
}

/// The database of one test: a data folder, or a fresh PostgreSQL database.
/// Any number of storages and server processes may open it.
final class TestDatabase: Sendable {
    let backend: ServerBackend
    /// The SQLite data directory (also given to PostgreSQL servers, which do not use it).
    let dataDirectory: String
    /// The PostgreSQL URL of this test's own database.
    let postgresURL: String?
    /// `--key-file` and `--key-store` of an encrypted server, or nil. SQLite: both outside the
    /// data folder; PostgreSQL: the key file beside the data folder, the key store a database of its own.
    let encryption: (keyFile: String, keyStore: String)?

    /// A fresh database of `backend`; SQLite's data directory is `dataDirectory`.
    /// `encrypted`: a server with its key beside the data folder and its key store apart.
    static func make(_ backend: ServerBackend, dataDirectory: String, encrypted: Bool = false) async throws -> TestDatabase {
        switch backend {
        case .sqlite:
            let beside = (dataDirectory as NSString).deletingLastPathComponent
            let encryption = encrypted ? (keyFile: beside + "/server.key", keyStore: beside + "/customer-keys.oxpecker-keys") : nil
            return TestDatabase(backend: backend, dataDirectory: dataDirectory, postgresURL: nil, encryption: encryption)
        case .postgres:
            let url = try await newPostgresDatabase()
            let beside = (dataDirectory as NSString).deletingLastPathComponent
            let encryption = encrypted ? (keyFile: beside + "/server.key", keyStore: try await newPostgresDatabase()) : nil
            return TestDatabase(backend: backend, dataDirectory: dataDirectory, postgresURL: url, encryption: encryption)
        }
    }

    /// A new, empty database on the tests' PostgreSQL server; its URL.
    static func newPostgresDatabase() async throws -> String {
        let base = try #require(ServerBackend.postgresURL, ServerBackend.postgresSkipReason)
        let name = "oxp_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20)
        try await PostgresAdmin.shared.execute("CREATE DATABASE \(name)")
        var parts = try #require(URLComponents(string: base))
        parts.path = "/" + name
        if !(parts.queryItems ?? []).contains(where: { $0.name == "sslmode" }) {
            parts.queryItems = (parts.queryItems ?? []) + [URLQueryItem(name: "sslmode", value: "disable")]
        }
        return try #require(parts.string)
    }

    /// The `postgres` database of a PostgreSQL server of the test's own (a `PostgresCluster`).
    static func postgres(at url: String, dataDirectory: String) throws -> TestDatabase {
        var parts = try #require(URLComponents(string: url))
        parts.queryItems = [URLQueryItem(name: "sslmode", value: "disable")]
        return TestDatabase(backend: .postgres, dataDirectory: dataDirectory, postgresURL: parts.string, owned: false)
    }

    /// Whether `remove` drops the database (one made by `make`).
    private let owned: Bool

    private init(
        backend: ServerBackend, dataDirectory: String, postgresURL: String?, owned: Bool = true, encryption: (keyFile: String, keyStore: String)? = nil
    ) {
        self.owned = owned
        self.backend = backend
        self.dataDirectory = dataDirectory
        self.postgresURL = postgresURL
        self.encryption = encryption
    }

    /// A storage on this database (SQLite: on `clock`, which stamps its own HLCs).
    /// PostgreSQL: `statementTimeout` replaces the server's default.
    func openStorage(clock: WallClock = .system, statementTimeout: Duration? = nil) async throws -> any ServerStorage {
        switch backend {
        case .sqlite:
            return try SQLiteServerStorage(dataDirectory: dataDirectory, clock: clock)
        case .postgres:
            var logger = Logger(label: "oxpecker-test.postgres")
            logger.logLevel = .critical
            var settings = try PostgresSettings(url: try #require(postgresURL))
            settings.connectTimeout = .seconds(30)  // a CI machine under load; the server's default is for a server
            if let statementTimeout { settings.statementTimeout = statementTimeout }
            return try await PostgresServerStorage.connect(settings, logger: logger)
        }
    }

    /// Runs `sql` on this test's PostgreSQL database, as an operator with `psql` would.
    func execute(_ sql: String) async throws {
        try await withClient { client in _ = try await client.query(PostgresQuery(unsafeSQL: sql)) }
    }

    /// Runs `body` inside a transaction of its own on this test's PostgreSQL database.
    func inTransaction(_ body: @escaping @Sendable (PostgresConnection) async throws -> Void) async throws {
        try await withClient { client in
            try await client.withTransaction(logger: Logger(label: "oxpecker-test.postgres")) { try await body($0) }
        }
    }

    /// The first column of the first row `sql` returns on this test's PostgreSQL database.
    func count(_ sql: String) async throws -> Int {
        try await withClient { client in
            var value = 0
            for try await count in try await client.query(PostgresQuery(unsafeSQL: sql)).decode(Int.self) { value = count }
            return value
        }
    }

    /// The first column of the first row `sql` returns on this test's PostgreSQL database, as text.
    func text(_ sql: String) async throws -> String {
        try await withClient { client in
            var value = ""
            for try await text in try await client.query(PostgresQuery(unsafeSQL: sql)).decode(String.self) { value = text }
            return value
        }
    }

    /// Runs `body` with a client of its own to this test's PostgreSQL database, closed after.
    private func withClient<T: Sendable>(_ body: @escaping @Sendable (PostgresClient) async throws -> T) async throws -> T {
        let settings = try PostgresSettings(url: try #require(postgresURL))
        let client = PostgresClient(configuration: try settings.clientConfiguration())
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { await client.run(); return nil }
            let result = try await body(client)
            group.cancelAll()
            return result
        }
    }

    /// The `oxpecker-server` options that point at this database.
    var serverArguments: [String] {
        (postgresURL.map { ["--postgres", $0] } ?? ["--data-dir", dataDirectory])
            + (encryption.map { ["--key-file", $0.keyFile, "--key-store", $0.keyStore] } ?? [])
    }

    /// Closes `storages` and drops the PostgreSQL database (the caller removes the folder).
    func remove(closing storages: [any ServerStorage] = []) async {
        for case let storage as PostgresServerStorage in storages { await storage.shutdown() }
        if owned, let postgresURL, let name = URLComponents(string: postgresURL)?.path.dropFirst() {
            try? await PostgresAdmin.shared.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        }
        if backend == .postgres, let keyStore = encryption?.keyStore, let name = URLComponents(string: keyStore)?.path.dropFirst() {
            try? await PostgresAdmin.shared.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        }
    }

    /// Like `remove`, from a `defer` (does the work in a task of its own).
    func removeLater(closing storages: [any ServerStorage] = []) {
        guard backend == .postgres else { return }
        Task { await remove(closing: storages) }
    }
}

/// One connection pool to the tests' PostgreSQL server, for making and dropping databases.
final class PostgresAdmin: Sendable {
    static let shared = PostgresAdmin()
    private let client: PostgresClient?

    private init() {
        guard let url = ServerBackend.postgresURL, var settings = try? PostgresSettings(url: url) else {
            client = nil
            return
        }
        settings.sslMode = "disable"
        settings.maximumConnections = 4
        let client = try? PostgresClient(configuration: settings.clientConfiguration())
        self.client = client
        if let client { Task.detached { await client.run() } }
    }

    func execute(_ sql: String) async throws {
        let client = try #require(client, "OXPECKER_TEST_POSTGRES_URL is not a usable PostgreSQL URL")
        try await client.query(PostgresQuery(unsafeSQL: sql))
    }
}

extension ServerStorage {
    /// How many changes the log holds.
    func logCount() async throws -> Int {
        try await statistics().logChanges
    }
}
