import OxpeckerProtocol
import OxpeckerStore

/// Everything the sync server needs to start, with safe defaults: loopback
/// only, embedded SQLite in `./oxpecker-data`, changes at most five minutes
/// ahead of the server's clock.
public struct ServerConfiguration: Sendable {
    /// The interface to listen on. The default serves this machine only.
    public var host: String
    /// The TCP port; 0 picks a free one.
    public var port: Int
    /// Where the embedded SQLite database lives.
    public var dataDirectory: String
    /// How far ahead of the server's clock a change's HLC may be, in milliseconds.
    public var maximumClockSkewMillis: Int64
    /// The limits every request must fit; announced to clients in the handshake.
    public var limits: WireLimits
    /// The wall clock (injected by tests).
    public var clock: WallClock
    /// The certificate and key to serve HTTPS with; nil serves plain HTTP.
    public var tls: TLSSettings? = nil
    /// How JWTs from an identity provider are verified; nil refuses JWTs (device tokens only).
    public var jwt: JWTSettings? = nil
    /// Whether `GET /metrics` answers without a credential. By default it needs an
    /// admin token, as `/v1/admin/…` does; open it only on a private network.
    public var metricsWithoutToken = false
    /// When the server compacts its log by itself (README, "Log compaction"); nil: only
    /// `oxpecker-server compact` does.
    public var compaction: CompactionSchedule? = CompactionSchedule()

    public init(
        host: String = "127.0.0.1", port: Int = 8080, dataDirectory: String = "oxpecker-data",
        maximumClockSkewMillis: Int64 = 5 * 60 * 1000, limits: WireLimits = .standard, clock: WallClock = .system
    ) {
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.maximumClockSkewMillis = maximumClockSkewMillis
        self.limits = limits
        self.clock = clock
    }
}
