import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// The seam between the sync client and the network: sends one `POST` and
/// returns the answer, whatever its status. Retries, headers of the protocol
/// and decoding are the client's; a transport only moves bytes.
///
/// ``HTTPSyncTransport`` is the real one; tests may pass another.
public protocol SyncTransport: Sendable {
    /// Posts `body` to `path` (like `/v1/push`) with `headers`, and returns the
    /// answer. Throws only when no answer came (connection refused, reset,
    /// timeout, truncated body).
    func post(path: String, body: [UInt8], headers: [(name: String, value: String)]) async throws -> TransportResponse
}

/// One HTTP answer, read whole.
public struct TransportResponse: Sendable, Hashable {
    /// The HTTP status code.
    public var status: Int
    /// The headers, names in lowercase.
    public var headers: [String: String]
    /// The body.
    public var body: [UInt8]

    /// Makes an answer; header names are lowercased.
    public init(status: Int, headers: [String: String] = [:], body: [UInt8]) {
        self.status = status
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
        self.body = body
    }

    /// The value of header `name` (any case).
    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// A ``SyncTransport`` over HTTP/1.1 with AsyncHTTPClient.
///
/// ```swift
/// let transport = try HTTPSyncTransport(server: "https://sync.bank.internal", certificateAuthorityFile: "bank-ca.pem")
/// ```
///
/// An `https` server is verified: its certificate must chain to a trusted
/// authority (the system's, or only those of `certificateAuthorityFile`) and
/// name the server's host. A server that fails is never sent a byte of the request.
public struct HTTPSyncTransport: SyncTransport {
    /// The server's base URL, without a trailing slash.
    public let server: String
    /// The TLS settings of every request: the trusted authorities; nil for the client's defaults (the system's).
    public let tlsConfiguration: TLSConfiguration?
    /// The most time one request may take, from sending to the end of the answer.
    public let timeout: Duration
    /// The largest answer read; a larger one fails like a network error.
    public let maximumResponseBytes: Int
    private let client: HTTPClient

    /// A transport to `server` (`http://host:port` or `https://…`, an optional path prefix).
    ///
    /// - Parameters:
    ///   - certificateAuthorityFile: PEM certificates of the authorities to trust instead of the system's.
    ///   - client: the HTTP client to use; by default ``sharedClient``, which needs no shutdown.
    /// - Throws: ``SyncError/invalidServer(_:reason:)`` if `server` is not an http(s) URL with a host;
    ///   ``SyncError/invalidCertificateAuthority(_:reason:)`` if the CA file does not load.
    public init(
        server: String, certificateAuthorityFile: String? = nil, client: HTTPClient = HTTPSyncTransport.sharedClient,
        timeout: Duration = .seconds(60), maximumResponseBytes: Int = 256 << 20
    ) throws(SyncError) {
        var base = server
        while base.hasSuffix("/") { base.removeLast() }
        guard let url = URL(string: base), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw SyncError.invalidServer(server, reason: "use an http:// or https:// URL, like http://127.0.0.1:8080")
        }
        guard let host = url.host, !host.isEmpty else {
            throw SyncError.invalidServer(server, reason: "the URL has no host")
        }
        guard url.query == nil, url.fragment == nil else {
            throw SyncError.invalidServer(server, reason: "the URL must not have a query or a fragment")
        }
        self.server = base
        self.tlsConfiguration = try certificateAuthorityFile.map { path throws(SyncError) in try Self.trusting(path) }
        self.client = client
        self.timeout = timeout
        self.maximumResponseBytes = maximumResponseBytes
    }

    /// A process-wide client for sync requests, never shut down (like `HTTPClient.shared`),
    /// set up for the sync client's own retries: a connection that cannot be made
    /// fails the attempt at once instead of being retried inside AsyncHTTPClient
    /// until the request's deadline, so ``RetryPolicy`` alone decides when to try
    /// again and when to give up. Redirects are not followed: a push is never resent elsewhere.
    public static let sharedClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = HTTPClient.Configuration.Timeout(connect: .seconds(10), read: .seconds(60))
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// A client TLS configuration that trusts only the certificates of the PEM file at `path`.
    static func trusting(_ path: String) throws(SyncError) -> TLSConfiguration {
        let authorities: [NIOSSLCertificate]
        do {
            authorities = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw SyncError.invalidCertificateAuthority(path, reason: "not a readable PEM certificate file (\(error))")
        }
        guard !authorities.isEmpty else { throw SyncError.invalidCertificateAuthority(path, reason: "it holds no PEM certificate") }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates(authorities)
        configuration.minimumTLSVersion = .tlsv12
        return configuration
    }

    public func post(path: String, body: [UInt8], headers: [(name: String, value: String)]) async throws -> TransportResponse {
        do {
            return try await send(path: path, body: body, headers: headers)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw TransportFailure(error)
        }
    }

    private func send(path: String, body: [UInt8], headers: [(name: String, value: String)]) async throws -> TransportResponse {
        var request = HTTPClientRequest(url: server + path)
        request.method = .POST
        request.tlsConfiguration = tlsConfiguration
        for header in headers { request.headers.add(name: header.name, value: header.value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let components = timeout.components
        let nanoseconds = components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
        let response = try await client.execute(request, timeout: .nanoseconds(nanoseconds))
        let bytes = try await response.body.collect(upTo: maximumResponseBytes)
        var names: [String: String] = [:]
        for (name, value) in response.headers { names[name.lowercased()] = value }
        return TransportResponse(status: Int(response.status.code), headers: names, body: Array(buffer: bytes))
    }
}

/// A request that got no answer, described for people (`connection refused`,
/// `the server closed the connection`, `timed out`), with the underlying error.
public struct TransportFailure: Error, CustomStringConvertible {
    /// What happened, in a few words.
    public let description: String
    /// The error AsyncHTTPClient or NIO threw.
    public let underlying: any Error

    /// Whether TLS failed: the server's certificate is not trusted or does not
    /// name the host, or the server does not speak TLS. Retrying will not help.
    public var isTLSFailure: Bool {
        if let error = underlying as? NIOSSLError, case .handshakeFailed = error { return true }
        return (underlying as? NIOSSLExtraError) == .failedToValidateHostname
    }

    init(_ error: any Error) {
        underlying = error
        description = Self.describe(error)
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? IOError {
            return String(cString: strerror(error.errnoCode)).lowercased()
        }
        if let error = error as? NIOSSLError, case .handshakeFailed = error {
            return "the TLS handshake failed (\(error)); is the server's certificate signed by a trusted authority (--ca-file) and does it name this host?"
        }
        if let error = error as? NIOSSLExtraError, error == .failedToValidateHostname {
            return "the server's certificate does not name this host (\(error))"
        }
        if let error = error as? HTTPClientError {
            switch error {
            case .remoteConnectionClosed: return "the server closed the connection"
            case .connectTimeout: return "connecting timed out"
            case .readTimeout, .writeTimeout, .deadlineExceeded: return "timed out"
            default: return "\(error)"
            }
        }
        return "\(error)"
    }
}
