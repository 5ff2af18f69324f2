import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import OxpeckerConsole
import OxpeckerProtocol
import OxpeckerStore
import Testing

/// The real console, live on a loopback port of this process, over a real store file in a scratch folder.
struct LiveConsole: Sendable {
    let port: Int
    let store: CustomerStore
    let secret: ConsoleSecret
    let folder: ScratchFolder

    /// The start URL's path and query: `/?key=SECRET`.
    var startPath: String { "/?key=\(secret.text)" }

    /// Runs `body` with a console on a new store that `prepare` filled; stops the console afterwards, also on failure.
    /// One at a time (``ConsoleTestGate``).
    static func run(
        configuration: ConsoleConfiguration = ConsoleConfiguration(), prepare: @Sendable (CustomerStore) async throws -> Void = { _ in },
        _ body: @Sendable (LiveConsole) async throws -> Void
    ) async throws {
        try await ConsoleTestGate.shared.run { try await runNow(configuration: configuration, prepare: prepare, body) }
    }

    private static func runNow(
        configuration: ConsoleConfiguration, prepare: @Sendable (CustomerStore) async throws -> Void,
        _ body: @Sendable (LiveConsole) async throws -> Void
    ) async throws {
        let folder = try ScratchFolder()
        let store = try CustomerStore.create(at: folder.path("branch.oxpecker"), options: StoreOptions(durability: .normal))
        try await prepare(store)
        var configuration = configuration
        configuration.port = 0
        var logger = Logger(label: "oxpecker-console-test")
        logger.logLevel = .critical
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = try buildConsole(store: store, configuration: configuration, logger: logger) { port in
            portContinuation.yield(port)
            portContinuation.finish()
        }
        let secret = configuration.secret
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else {
                group.cancelAll()
                throw ConsoleTestError("the console did not start")
            }
            do {
                try await body(LiveConsole(port: port, store: store, secret: secret, folder: folder))
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
        try store.close()
    }

    /// A browser on this console, not signed in.
    func browser() -> Browser { Browser(port: port) }

    /// A browser signed in with the start URL, its cookie kept.
    func signedInBrowser() async throws -> Browser {
        var browser = browser()
        let answer = try await browser.get(startPath)
        #expect(answer.status == 303)
        browser.cookie = try #require(answer.sessionCookie)
        return browser
    }

    /// How many changes wait in the store's outbox.
    func outboxCount() async throws -> Int { try await store.read { try $0.outboxCount() } }
}

/// Lets one console test run at a time, across suites. Each live console holds a store pool's files,
/// a listening socket and client connections; all of them at once, beside the other suites' processes
/// and servers, took the test process past 1,300 open descriptors, where Foundation's `Process.run()`
/// on Linux can crash while it lists /proc/self/fd (swift-corelibs-foundation PR 5472, seen here twice).
actor ConsoleTestGate {
    static let shared = ConsoleTestGate()
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// Runs `body` once no other gated test runs.
    func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        if busy {
            await withCheckedContinuation { waiting.append($0) }
        }
        busy = true
        defer {
            if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
        }
        return try await body()
    }
}

struct ConsoleTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// What a browser would send: a Host header, the session cookie once it has one, forms as
/// `application/x-www-form-urlencoded`. Over a real TCP connection to 127.0.0.1.
struct Browser: Sendable {
    let port: Int
    /// The session cookie's value, sent with every request once set.
    var cookie: String?
    /// The Host header; the console's own address unless a test says otherwise.
    var host: String

    init(port: Int) {
        self.port = port
        host = "127.0.0.1:\(port)"
    }

    func get(_ path: String, headers: HTTPFields = [:]) async throws -> Answer {
        try await send(path, method: .get, headers: headers, body: nil)
    }

    /// POSTs `fields` as a form.
    func post(_ path: String, _ fields: [(String, String)], headers: HTTPFields = [:]) async throws -> Answer {
        var headers = headers
        headers[.contentType] = "application/x-www-form-urlencoded"
        let body = fields.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        return try await send(path, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    /// POSTs `fields` with the CSRF token of the page at `page`, as the page's form would.
    func submit(_ path: String, from page: String, _ fields: [(String, String)]) async throws -> Answer {
        let token = try #require(try await get(page).csrfToken, "the page has a form with a CSRF token")
        return try await post(path, [("csrf", token)] + fields)
    }

    private func send(_ path: String, method: HTTPRequest.Method, headers: HTTPFields, body: ByteBuffer?) async throws -> Answer {
        var headers = headers
        if let cookie { headers[.cookie] = "oxpecker_console_\(port)=\(cookie)" }
        let request = TestClient.Request(path, method: method, authority: host, headers: headers, body: body)
        let response = try await TestClient.withClient(host: "127.0.0.1", port: port) { client in try await client.execute(request) }
        return Answer(status: Int(response.status.code), headers: response.headers, body: response.body.map { String(buffer: $0) } ?? "")
    }

    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return (text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text)
    }
}

/// An HTTP answer of the console.
struct Answer: Sendable {
    let status: Int
    let headers: HTTPFields
    let body: String

    var location: String? { headers[.location] }

    /// The `Set-Cookie` header for the session cookie, whole.
    var setCookie: String? { headers[values: .setCookie].first { $0.hasPrefix("oxpecker_console_") } }

    /// The session cookie's value, if the answer sets it.
    var sessionCookie: String? {
        setCookie.flatMap { $0.split(separator: ";").first?.split(separator: "=", maxSplits: 1).last }.map(String.init)
    }

    /// The CSRF token of the page's first form.
    var csrfToken: String? {
        guard let range = body.range(of: #"name="csrf" value="([0-9a-f]+)""#, options: .regularExpression) else { return nil }
        let match = body[range]
        return match.split(separator: "\"").dropFirst(3).first.map(String.init)
    }
}

/// A new empty folder, removed with everything in it when released.
final class ScratchFolder: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("oxpecker-console-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    /// A path inside the folder.
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}
