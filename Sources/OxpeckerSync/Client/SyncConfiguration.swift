/// What a ``SyncClient`` needs to know about its server and how hard to try.
///
/// ```swift
/// var configuration = SyncConfiguration(server: "http://127.0.0.1:8080", token: token)
/// configuration.retry.maximumElapsed = .seconds(30)
/// ```
public struct SyncConfiguration: Sendable {
    /// The server's base URL, like `http://127.0.0.1:8080`.
    public var server: String
    /// The device's bearer token (from `oxpecker-server token create`), or a JWT from the bank's identity provider.
    public var token: String
    /// A PEM file of the certificate authorities to trust for an `https` server,
    /// instead of the system's (a bank's internal CA); nil trusts the system's.
    public var certificateAuthorityFile: String? = nil
    /// The client's name and version, sent in the handshake for the server's logs.
    public var client: String
    /// How each request is retried.
    public var retry: RetryPolicy
    /// The most time one attempt of a request may take.
    public var requestTimeout: Duration
    /// The most changes per push; the server's `max_changes_per_push` when larger.
    public var pushBatchSize: Int
    /// The most changes per pull page; the server's `max_changes_per_pull` when larger.
    public var pullPageSize: Int
    /// The most customers per bootstrap page; the server's `max_customers_per_page` when larger.
    public var bootstrapPageSize: Int
    /// The largest answer accepted from the server (a pull or bootstrap page).
    public var maximumResponseBytes: Int
    /// A difference between the server's clock and the device's above which the handshake logs a warning.
    public var clockWarningThreshold: Duration

    /// Makes a configuration with the defaults: the standard retry policy, 60 s per
    /// attempt, the server's largest batches and pages.
    public init(
        server: String, token: String, client: String = "oxpecker-sync/0.1.0", retry: RetryPolicy = .standard,
        requestTimeout: Duration = .seconds(60), pushBatchSize: Int = 500, pullPageSize: Int = 1000, bootstrapPageSize: Int = 200,
        maximumResponseBytes: Int = 256 << 20, clockWarningThreshold: Duration = .seconds(60)
    ) {
        self.server = server
        self.token = token
        self.client = client
        self.retry = retry
        self.requestTimeout = requestTimeout
        self.pushBatchSize = pushBatchSize
        self.pullPageSize = pullPageSize
        self.bootstrapPageSize = bootstrapPageSize
        self.maximumResponseBytes = maximumResponseBytes
        self.clockWarningThreshold = clockWarningThreshold
    }
}
