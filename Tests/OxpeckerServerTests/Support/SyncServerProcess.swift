import Foundation
import OxpeckerProtocol
import OxpeckerSync
import Testing

/// The real `oxpecker-server` binary on a loopback port and a database of its
/// own (a data folder, or a fresh PostgreSQL database), or another instance on
/// the database of a running one. The first start asks for port 0 (the system
/// picks a free one; the server prints it); a restart takes the same port
/// again, so clients keep their URL. Killed when released, and its folder and
/// database removed with the instance that made them.
final class SyncServerProcess: @unchecked Sendable {
    // One test owns it and drives it from one task at a time.
    let folder: ScratchFolder
    let database: TestDatabase
    private let ownsDatabase: Bool
    private(set) var port: Int = 0
    private var child: ChildProcess?
    /// `serve` options beyond host, port, data directory and log level (like `--tls-certificate`).
    private let serveOptions: [String]
    /// `https` when the server was started with TLS.
    private(set) var scheme = "http"

    /// The SQLite data directory (kept across restarts).
    var dataDirectory: String { database.dataDirectory }
    /// The server's base URL.
    var url: String { "\(scheme)://127.0.0.1:\(port)" }

    /// Starts a server on a new database of `backend` and a free port, with `serveOptions` on its command line.
    /// `encrypted` (SQLite): its data encrypted, with a key file and key store beside the data folder.
    static func start(_ backend: ServerBackend = .sqlite, serveOptions: [String] = [], encrypted: Bool = false) async throws -> SyncServerProcess {
        let folder = try ScratchFolder()
        let database = try await TestDatabase.make(backend, dataDirectory: folder.path("data"), encrypted: encrypted)
        let server = SyncServerProcess(folder: folder, database: database, ownsDatabase: true, serveOptions: serveOptions)
        try await server.launch(port: 0)
        return server
    }

    /// Starts a server on `database` (not removed with it), with `serveOptions` on its command line.
    static func start(on database: TestDatabase, serveOptions: [String] = []) async throws -> SyncServerProcess {
        let server = SyncServerProcess(folder: try ScratchFolder(), database: database, ownsDatabase: false, serveOptions: serveOptions)
        try await server.launch(port: 0)
        return server
    }

    /// Starts another instance on the database of `other` (PostgreSQL: many instances, one truth).
    static func start(sharingDatabaseWith other: SyncServerProcess) async throws -> SyncServerProcess {
        let server = SyncServerProcess(folder: try ScratchFolder(), database: other.database, ownsDatabase: false, serveOptions: other.serveOptions)
        try await server.launch(port: 0)
        return server
    }

    private init(folder: ScratchFolder, database: TestDatabase, ownsDatabase: Bool, serveOptions: [String]) {
        self.folder = folder
        self.database = database
        self.ownsDatabase = ownsDatabase
        self.serveOptions = serveOptions
    }

    deinit {
        child?.kill(SIGKILL)
        if ownsDatabase { database.removeLater() }
    }

    /// Runs an administrator's command of `oxpecker-server` on this server's database (it may be running).
    func admin(_ arguments: [String]) async throws -> ProcessResult {
        try await ChildProcess(BuiltProducts.server, arguments + database.serverArguments, in: folder.url).wait(timeout: .seconds(60))
    }

    /// Makes a device token with `oxpecker-server token create` (the server may be running), for `scopes`.
    func createToken(name: String, scopes: [String] = ["branch:HN01"]) async throws -> String {
        let result = try await ChildProcess(
            BuiltProducts.server, ["token", "create", "--name", name] + database.serverArguments + scopes.flatMap { ["--scope", $0] },
            in: folder.url
        ).wait(timeout: .seconds(60))
        #expect(result.succeeded, "token create failed: \(result.stderr)")
        let token = result.stdout.split(separator: "\n").first.map(String.init) ?? ""
        try #require(!token.isEmpty, "token create printed no token")
        return token
    }

    /// The merged state as `oxpecker-server export` prints it.
    func exportState() async throws -> Data {
        let result = try await ChildProcess(BuiltProducts.server, ["export"] + database.serverArguments, in: folder.url)
            .wait(timeout: .seconds(60))
        #expect(result.succeeded, "server export failed: \(result.stderr)")
        return result.stdoutData
    }

    /// Kills the server with SIGKILL: no shutdown, no flush, like a power cut of the process.
    func killNow() {
        child?.kill(SIGKILL)
        child = nil
    }

    /// Stops the server with SIGTERM (graceful shutdown), SIGKILL after 10 s.
    func stop() async throws {
        guard let child else { return }
        _ = Foundation.kill(child.pid, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(10)
        while child.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        child.kill(SIGKILL)
        self.child = nil
    }

    /// Starts the server again on the same port and data folder (retrying while
    /// the port is still held by the previous process).
    func restart() async throws {
        child?.kill(SIGKILL)
        child = nil
        try await launch(port: port)
    }

    /// Whether the server process is running.
    var isRunning: Bool { child?.isRunning ?? false }

    private func launch(port requested: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        var lastError = ""
        while ContinuousClock.now < deadline {
            let child = try ChildProcess(
                BuiltProducts.server,
                ["serve", "--host", "127.0.0.1", "--port", String(requested), "--log-level", "warning"] + database.serverArguments
                    + serveOptions,
                in: folder.url)
            let ready = try await child.waitForOutput(timeout: .seconds(30)) { stdout, _ in Self.port(in: stdout) != nil }
            if ready, let (scheme, port) = Self.port(in: child.stdoutSoFar) {
                self.scheme = scheme
                self.port = port
                self.child = child
                return
            }
            lastError = child.stderrSoFar
            child.kill(SIGKILL)
            try await Task.sleep(for: .milliseconds(200))  // the port may still be held: try again
        }
        Issue.record("oxpecker-server did not start on port \(requested): \(lastError)")
        throw CocoaError(.fileReadUnknown)
    }

    /// The scheme and port in `oxpecker-server listening on http(s)://127.0.0.1:PORT (…)`.
    private static func port(in stdout: String) -> (String, Int)? {
        for scheme in ["http", "https"] {
            guard let range = stdout.range(of: "listening on \(scheme)://127.0.0.1:") else { continue }
            let digits = stdout[range.upperBound...].prefix { $0.isNumber }
            return Int(digits).map { (scheme, $0) }
        }
        return nil
    }

    /// Every change in the server's log, read by pulling from its very start with `token`.
    func loggedChanges(token: String) async throws -> [ChangeItem] {
        try await wholeLog(of: url, token: token)
    }
}

/// Every change in the log of the server at `url`, read by pulling from its very
/// start with `token` (over the sync client's own HTTP transport).
func wholeLog(of url: String, token: String) async throws -> [ChangeItem] {
    let transport = try HTTPSyncTransport(server: url)
    var limits = WireLimits.standard
    limits.maximumBodyBytes = 256 << 20
    let codec = WireCodec(limits: limits)
    var cursor: SyncCursor?
    var items: [ChangeItem] = []
    while true {
        let response = try await transport.post(
            path: "/v1/pull", body: WireCodec().encode(PullRequest(after: cursor, limit: 1000)),
            headers: [("Oxpecker-Protocol", "1"), ("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")])
        try #require(response.status == 200, "pull: HTTP \(response.status) \(String(decoding: response.body, as: UTF8.self))")
        let page = try codec.decode(PullResponse.self, from: response.body)
        items += page.items
        cursor = page.nextCursor
        if !page.hasMore { return items }
    }
}
