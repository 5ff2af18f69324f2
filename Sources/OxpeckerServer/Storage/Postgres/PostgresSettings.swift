import Foundation
import NIOSSL
import PostgresNIO

/// Where the PostgreSQL backend connects and how: parsed from a
/// `postgres://user:password@host:port/database?sslmode=…` URL.
///
/// `sslmode` follows libpq's names: `disable`, `prefer` (the default: TLS when
/// the server offers it), `require` (TLS, certificate not checked) and
/// `verify-full` (TLS, certificate and host name checked).
public struct PostgresSettings: Sendable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var sslMode: String
    /// The most connections this instance opens (the pool's size).
    public var maximumConnections: Int = 20
    /// How long to wait for a connection to open.
    public var connectTimeout: Duration = .seconds(5)
    /// PostgreSQL's `statement_timeout` for every statement, and the client's
    /// limit on a whole storage call (waiting for a connection included).
    public var statementTimeout: Duration = .seconds(15)

    /// Parses `url`, or throws a message saying what is wrong with it.
    public init(url: String) throws {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme, ["postgres", "postgresql"].contains(scheme) else {
            throw ServerError(.invalidValue, "the PostgreSQL URL must look like postgres://user:password@host:5432/database")
        }
        guard let host = parts.host, !host.isEmpty else { throw ServerError(.invalidValue, "the PostgreSQL URL names no host") }
        self.host = host
        port = parts.port ?? 5432
        username = parts.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
        password = parts.password.flatMap { $0.removingPercentEncoding }
        let path = parts.path.hasPrefix("/") ? String(parts.path.dropFirst()) : parts.path
        database = path.isEmpty ? username : (path.removingPercentEncoding ?? path)
        sslMode = parts.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        guard ["disable", "prefer", "require", "verify-full"].contains(sslMode) else {
            throw ServerError(.invalidValue, "unknown sslmode '\(sslMode)': use disable, prefer, require or verify-full")
        }
    }

    /// The URL without its password, for messages and logs.
    public var redacted: String { "postgres://\(username)@\(host):\(port)/\(database)" }

    public func clientConfiguration() throws -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch sslMode {
        case "disable":
            tls = .disable
        case "verify-full":
            tls = .require(.makeClientConfiguration())
        default:
            var unchecked = TLSConfiguration.makeClientConfiguration()
            unchecked.certificateVerification = .none
            tls = sslMode == "require" ? .require(unchecked) : .prefer(unchecked)
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = connectTimeout
        configuration.options.additionalStartupParameters = [
            ("application_name", "oxpecker-server"),
            ("statement_timeout", String(statementTimeout.components.seconds * 1000)),
            ("idle_in_transaction_session_timeout", String(statementTimeout.components.seconds * 2000)),
        ]
        return configuration
    }
}
