import OxpeckerProtocol

/// Why a sync stopped. Everything committed before it stays committed: the
/// next sync resumes from the last saved checkpoint and pushes what is left.
///
/// ```swift
/// do { try await client.sync() }
/// catch SyncError.refused(let refusal) where refusal.code == .unauthorized { askForANewToken() }
/// ```
public enum SyncError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The server answered a request with a 4xx error that retrying will not
    /// fix (a bad token, an unsupported protocol version, a refused message).
    case refused(ServerRefusal)
    /// The server could not be reached, or kept failing (network errors,
    /// `408`, `429`, `5xx`), for every attempt the retry policy allowed.
    case unreachable(UnreachableServer)
    /// The server answered with something that is not a valid message of the protocol.
    case invalidResponse(endpoint: String, detail: String, requestID: String?)
    /// The server speaks no protocol version this client speaks.
    case incompatibleServer(supported: VersionRange, spoken: VersionRange)
    /// The server URL is not usable.
    case invalidServer(String, reason: String)
    /// The file of certificate authorities to trust does not load.
    case invalidCertificateAuthority(String, reason: String)
    /// TLS with the server failed: its certificate is not trusted or does not name
    /// its host, or it does not speak TLS. Not retried: no request was sent.
    case tlsFailed(server: String, reason: String)
    /// One outbox change is larger than the server's `max_body_bytes` on its own: it can never be pushed.
    case changeTooLarge(number: Int64, bytes: Int, limit: Int)

    /// The protocol's error code, when the server sent one.
    public var code: ErrorCode? {
        switch self {
        case .refused(let refusal): refusal.code
        case .unreachable(let failure): failure.lastCode
        default: nil
        }
    }

    public var description: String {
        switch self {
        case .refused(let refusal):
            refusal.description
        case .unreachable(let failure):
            failure.description
        case .invalidResponse(let endpoint, let detail, let requestID):
            "the server's answer to \(endpoint) is not valid: \(detail)" + (requestID.map { " (request id \($0))" } ?? "")
        case .incompatibleServer(let supported, let spoken):
            "the server speaks protocol versions \(supported.minimum)–\(supported.maximum), this client "
                + "\(spoken.minimum)–\(spoken.maximum): upgrade \(supported.minimum > spoken.maximum ? "this client" : "the server")"
        case .invalidServer(let server, let reason):
            "invalid server URL '\(server)': \(reason)"
        case .invalidCertificateAuthority(let path, let reason):
            "cannot use the CA file '\(path)': \(reason)"
        case .tlsFailed(let server, let reason):
            "cannot sync with \(server) securely: \(reason)"
        case .changeTooLarge(let number, let bytes, let limit):
            "outbox change \(number) takes \(bytes) bytes, more than the server accepts in one push (\(limit))"
        }
    }
}

/// A request the server refused with an error envelope (or a bare 4xx status).
public struct ServerRefusal: Sendable, Hashable, CustomStringConvertible {
    /// The endpoint, like `/v1/push`.
    public var endpoint: String
    /// The HTTP status.
    public var status: Int
    /// The protocol's error code (``ErrorCode/unauthorized``, …); from the status when the body had none.
    public var code: ErrorCode
    /// The server's explanation, for people.
    public var message: String
    /// The id to quote to the server's operators.
    public var requestID: String?
    /// The protocol versions the server speaks, sent with the version errors.
    public var supportedVersions: VersionRange?

    /// Makes a refusal.
    public init(
        endpoint: String, status: Int, code: ErrorCode, message: String, requestID: String?, supportedVersions: VersionRange? = nil
    ) {
        self.endpoint = endpoint
        self.status = status
        self.code = code
        self.message = message
        self.requestID = requestID
        self.supportedVersions = supportedVersions
    }

    /// `the server refused /v1/hello (401 unauthorized): the token is unknown… (request id req-7f3b)`
    public var description: String {
        var text = "the server refused \(endpoint) (\(status) \(code.rawValue)): \(message)"
        if let requestID { text += " (request id \(requestID))" }
        switch code {
        case .unauthorized, .tokenInvalid: text += "; check the token (--token or OXPECKER_TOKEN)"
        case .tokenExpired, .tokenRevoked: text += "; ask the server's operators for a new token"
        case .upgradeRequired: text += "; upgrade this client"
        default: break
        }
        return text
    }
}

/// What the last attempts against an unreachable or failing server saw.
public struct UnreachableServer: Sendable, Hashable, CustomStringConvertible {
    /// The server's base URL.
    public var server: String
    /// The endpoint, like `/v1/push`.
    public var endpoint: String
    /// How many attempts were made.
    public var attempts: Int
    /// The time spent, waits included.
    public var elapsed: Duration
    /// The last failure, for people: a network error, or a status with its code and message.
    public var lastFailure: String
    /// The last HTTP status, if the server answered at all.
    public var lastStatus: Int?
    /// The last error code, if the server answered with an envelope.
    public var lastCode: ErrorCode?
    /// The last request id, if the server answered.
    public var lastRequestID: String?

    public var description: String {
        let seconds = (elapsed.seconds * 10).rounded() / 10
        return "cannot sync with \(server): \(endpoint) failed \(attempts) time\(attempts == 1 ? "" : "s") in \(seconds) s; "
            + "last: \(lastFailure)" + (lastRequestID.map { " (request id \($0))" } ?? "")
    }
}
