import OxpeckerStore
import OxpeckerSync

/// How `oxpecker console` serves: the loopback port, the secret of its start URL,
/// the context rules and the clock the pages answer with.
///
/// ```swift
/// let configuration = ConsoleConfiguration(port: 0)   // any free port
/// print(configuration.startURL(port: 8731))        // http://127.0.0.1:8731/?key=…
/// ```
public struct ConsoleConfiguration: Sendable {
    /// The address the console listens on: loopback only, never another interface.
    public static let host = "127.0.0.1"

    /// The TCP port on 127.0.0.1; 0 picks any free port.
    public var port: Int
    /// The secret of the start URL; whoever presents it gets a session.
    public var secret: ConsoleSecret
    /// The context rules the brief, the gate and the signals use.
    public var rules: ContextRules
    /// The clock of the brief, the gate and the writes.
    public var clock: WallClock
    /// How the sync button reaches the sync server; nil hides the button.
    public var sync: ConsoleSyncSettings?
    /// The advisor using the console, filled in as a note's author and a redaction's "by".
    public var advisor: String?

    public init(
        port: Int = 0, secret: ConsoleSecret = .random(), rules: ContextRules = .standard, clock: WallClock = .system,
        sync: ConsoleSyncSettings? = nil, advisor: String? = nil
    ) {
        self.port = port
        self.secret = secret
        self.rules = rules
        self.clock = clock
        self.sync = sync
        self.advisor = advisor
    }

    /// The URL to open in a browser, with the secret: `http://127.0.0.1:PORT/?key=SECRET`.
    public func startURL(port: Int) -> String {
        "http://\(Self.host):\(port)/?\(SessionMiddleware.keyParameter)=\(secret.text)"
    }
}

/// What the console's sync button needs: the server and the device token, as `oxpecker sync` takes them.
public struct ConsoleSyncSettings: Sendable {
    /// The sync server's URL; nil uses the server this store last synced with.
    public var server: String?
    /// The device token.
    public var token: String
    /// A PEM file of certificate authorities to trust for an https server.
    public var certificateAuthorityFile: String?
    /// The client name sent to the server, like `oxpecker-cli/0.1.0`.
    public var client: String
    /// How failed requests are retried.
    public var retry: RetryPolicy

    public init(
        server: String?, token: String, certificateAuthorityFile: String? = nil, client: String = "oxpecker-console",
        retry: RetryPolicy = .standard
    ) {
        self.server = server
        self.token = token
        self.certificateAuthorityFile = certificateAuthorityFile
        self.client = client
        self.retry = retry
    }
}
