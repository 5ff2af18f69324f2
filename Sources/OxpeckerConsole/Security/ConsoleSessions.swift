import Synchronization

/// A browser that presented the start URL's secret: its cookie value and the CSRF token its forms carry.
public struct ConsoleSession: Sendable, Hashable {
    /// The value of the session cookie.
    public let id: ConsoleSecret
    /// The token every POST form of this session must carry.
    public let csrfToken: ConsoleSecret
}

/// The console's mutable state shared by every request: the port it listens on
/// (known once the server runs, for the Host check) and the sessions it handed out.
/// Sessions live in memory only: a restarted console prints a new URL.
public final class ConsoleSessions: Sendable {
    private struct State {
        var port: Int?
        var sessions: [String: ConsoleSession] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// The port the server listens on, once it runs.
    public var port: Int? { state.withLock { $0.port } }

    /// Called when the server runs, with the port it got.
    public func serverRuns(on port: Int) {
        state.withLock { $0.port = port }
    }

    /// A new session, for a browser that presented the secret.
    public func open() -> ConsoleSession {
        let session = ConsoleSession(id: .random(), csrfToken: .random())
        state.withLock { $0.sessions[session.id.text] = session }
        return session
    }

    /// The session whose cookie value is `cookie`, if there is one.
    public func session(cookie: String) -> ConsoleSession? {
        state.withLock { state in
            // A dictionary lookup by a hash of the presented value; the stored secret is then compared in constant time.
            guard let session = state.sessions[cookie], session.id.matches(cookie) else { return nil }
            return session
        }
    }
}
