/// A stable machine-readable error code: what went wrong, in a form a client
/// can switch on. The raw value is the code on the wire (`too_many_changes`);
/// the table below is the one place codes are declared, and `Protocol/README.md`
/// documents each of them.
///
/// An error code from a newer peer decodes as an unknown code (``isKnown`` is
/// false); a client treats it by its HTTP status.
///
/// ```swift
/// if envelope.code == .upgradeRequired { showUpgradePrompt() }
/// ```
public struct ErrorCode: WireToken {
    public let rawValue: String

    public init(unchecked rawValue: String) { self.rawValue = rawValue }

    /// Makes a code from its wire name, or nil if the name is not a well-formed token.
    public init?(rawValue: String) {
        guard WireTokenRule.accepts(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    /// Where a code can appear.
    public enum Use: String, Sendable, CaseIterable {
        /// Refuses a whole request, in an ``ErrorEnvelope``.
        case message
        /// Rejects one change of a push, in a ``PushResult``.
        case change
    }

    /// What the protocol says about one code.
    public struct Entry: Sendable {
        /// The code.
        public let code: ErrorCode
        /// The HTTP status of a response refusing a request with this code.
        public let httpStatus: Int
        /// Where the code appears.
        public let use: Use
        /// What it means and what a client does about it.
        public let summary: String
    }

    // Decoding: produced by the codec for a malformed or oversized body.
    public static let bodyTooLarge = ErrorCode(unchecked: "body_too_large")
    public static let malformedJSON = ErrorCode(unchecked: "malformed_json")
    public static let fractionalNumber = ErrorCode(unchecked: "fractional_number")
    public static let numberOutOfRange = ErrorCode(unchecked: "number_out_of_range")
    public static let nestingTooDeep = ErrorCode(unchecked: "nesting_too_deep")
    public static let wrongType = ErrorCode(unchecked: "wrong_type")
    public static let missingField = ErrorCode(unchecked: "missing_field")
    public static let unknownField = ErrorCode(unchecked: "unknown_field")
    public static let stringTooLong = ErrorCode(unchecked: "string_too_long")
    public static let tooManyChanges = ErrorCode(unchecked: "too_many_changes")
    public static let tooManyItems = ErrorCode(unchecked: "too_many_items")
    public static let invalidIdentifier = ErrorCode(unchecked: "invalid_identifier")
    public static let invalidTimestamp = ErrorCode(unchecked: "invalid_timestamp")
    public static let invalidDate = ErrorCode(unchecked: "invalid_date")
    public static let invalidValue = ErrorCode(unchecked: "invalid_value")
    // Versioning.
    public static let upgradeRequired = ErrorCode(unchecked: "upgrade_required")
    public static let versionUnsupported = ErrorCode(unchecked: "version_unsupported")
    // Server: the request is well-formed but cannot be served.
    public static let unauthorized = ErrorCode(unchecked: "unauthorized")
    public static let forbidden = ErrorCode(unchecked: "forbidden")
    public static let tokenExpired = ErrorCode(unchecked: "token_expired")
    public static let tokenRevoked = ErrorCode(unchecked: "token_revoked")
    public static let tokenInvalid = ErrorCode(unchecked: "token_invalid")
    public static let notFound = ErrorCode(unchecked: "not_found")
    public static let unsupportedMediaType = ErrorCode(unchecked: "unsupported_media_type")
    public static let cursorExpired = ErrorCode(unchecked: "cursor_expired")
    public static let rateLimited = ErrorCode(unchecked: "rate_limited")
    public static let internalError = ErrorCode(unchecked: "internal_error")
    public static let unavailable = ErrorCode(unchecked: "unavailable")
    public static let storageUnavailable = ErrorCode(unchecked: "storage_unavailable")
    // Push: one change rejected, the others still processed.
    public static let unsupportedKind = ErrorCode(unchecked: "unsupported_kind")
    public static let outOfOrder = ErrorCode(unchecked: "out_of_order")
    public static let clockSkew = ErrorCode(unchecked: "clock_skew")
    public static let outOfScope = ErrorCode(unchecked: "out_of_scope")
    public static let invalidChange = ErrorCode(unchecked: "invalid_change")
    public static let customerErased = ErrorCode(unchecked: "customer_erased")
    public static let replicaConflict = ErrorCode(unchecked: "replica_conflict")

    /// Every documented code with its HTTP status, use and meaning: the error table of the spec.
    public static let catalog: [Entry] = [
        Entry(code: .bodyTooLarge, httpStatus: 413, use: .message,
              summary: "The body is larger than max_body_bytes. Split the push."),
        Entry(code: .malformedJSON, httpStatus: 400, use: .message,
              summary: "Not JSON (syntax, invalid UTF-8, duplicate key, bad escape, trailing text). A client bug: do not retry."),
        Entry(code: .fractionalNumber, httpStatus: 400, use: .message,
              summary: "A number with a fraction or exponent. Decimals travel as strings."),
        Entry(code: .numberOutOfRange, httpStatus: 400, use: .message,
              summary: "An integer outside the signed 64-bit range."),
        Entry(code: .nestingTooDeep, httpStatus: 400, use: .message,
              summary: "Arrays and objects nested deeper than max_depth."),
        Entry(code: .wrongType, httpStatus: 400, use: .message,
              summary: "A member has the wrong JSON type (a string where an integer belongs, null for an optional member)."),
        Entry(code: .missingField, httpStatus: 400, use: .message,
              summary: "A required member is absent."),
        Entry(code: .unknownField, httpStatus: 400, use: .message,
              summary: "A member this protocol version does not define."),
        Entry(code: .stringTooLong, httpStatus: 400, use: .message,
              summary: "A string longer than its limit (note text: 20000 code points)."),
        Entry(code: .tooManyChanges, httpStatus: 413, use: .message,
              summary: "More changes than max_changes_per_push (or a page holds more than its limit). Split the push."),
        Entry(code: .tooManyItems, httpStatus: 400, use: .message,
              summary: "Another array (observed, scopes, purges, results) is longer than its limit, or empty where it must not be."),
        Entry(code: .invalidIdentifier, httpStatus: 400, use: .message,
              summary: "A customer, replica, record or request id breaks the identifier rule."),
        Entry(code: .invalidTimestamp, httpStatus: 400, use: .message,
              summary: "A hybrid timestamp is not WALL(15 digits)-COUNTER(6 digits)-REPLICA, or its replica is not the change's."),
        Entry(code: .invalidDate, httpStatus: 400, use: .message,
              summary: "An instant or date is not in its one documented form, or does not exist."),
        Entry(code: .invalidValue, httpStatus: 400, use: .message,
              summary: "A value is well-typed but out of range or inconsistent (a change number below 1, a limit of 0)."),
        Entry(code: .upgradeRequired, httpStatus: 426, use: .message,
              summary: "The client's protocol version is older than the server supports, absent, or not an integer (two Oxpecker-Protocol headers are not one). Upgrade the client."),
        Entry(code: .versionUnsupported, httpStatus: 400, use: .message,
              summary: "The client's protocol version is newer than the server's: the header's, or hello's protocol_version (a hello is judged by both). Retry with supported_versions.max if the client speaks it."),
        Entry(code: .unauthorized, httpStatus: 401, use: .message,
              summary: "No bearer token, or one the server does not know or cannot read. Get a token from the server's operators."),
        Entry(code: .forbidden, httpStatus: 403, use: .message,
              summary: "The credential is valid but does not allow this operation (a device token on an admin endpoint, an admin token on a sync endpoint, a push under a replica that belongs to another device token)."),
        Entry(code: .tokenExpired, httpStatus: 401, use: .message,
              summary: "The device token or JWT is past its expiry. Get a new one; do not retry with this one."),
        Entry(code: .tokenRevoked, httpStatus: 401, use: .message,
              summary: "The token was revoked by an administrator. Get a new one; do not retry with this one."),
        Entry(code: .tokenInvalid, httpStatus: 401, use: .message,
              summary: "A JWT failed verification: bad signature, unknown key, wrong issuer or audience, not yet valid, or a missing or malformed claim."),
        Entry(code: .notFound, httpStatus: 404, use: .message,
              summary: "No such endpoint or resource. An endpoint is a method and a path: a method the path does not serve (GET /v1/push) is not_found too."),
        Entry(code: .unsupportedMediaType, httpStatus: 415, use: .message,
              summary: "The body is not application/json."),
        Entry(code: .cursorExpired, httpStatus: 410, use: .message,
              summary: "The server no longer knows this cursor or page token. Bootstrap again."),
        Entry(code: .rateLimited, httpStatus: 429, use: .message,
              summary: "Too many requests. Retry after the Retry-After header."),
        Entry(code: .internalError, httpStatus: 500, use: .message,
              summary: "A server fault. Retry with backoff; nothing was half-applied."),
        Entry(code: .unavailable, httpStatus: 503, use: .message,
              summary: "The server is starting, stopping or overloaded. Retry with backoff."),
        Entry(code: .storageUnavailable, httpStatus: 503, use: .message,
              summary: "The server's database is unreachable, restarting or too slow; nothing was half-applied. Retry with backoff."),
        Entry(code: .unsupportedKind, httpStatus: 200, use: .change,
              summary: "The change's merge kind or entity is unknown to the server. Keep it in the outbox; it is pushed again once the server upgrades."),
        Entry(code: .outOfOrder, httpStatus: 200, use: .change,
              summary: "Reserved. The reference server accepts gaps in numbers (see push) and never sends it; a client treats it as transient."),
        Entry(code: .clockSkew, httpStatus: 200, use: .change,
              summary: "The change's HLC is more than max_clock_skew_ms ahead of the server's clock. Not remembered: once the device clock is fixed, the device restamps its unsent changes from the server's time (HLC rules) and pushes them again under the same numbers."),
        Entry(code: .outOfScope, httpStatus: 200, use: .change,
              summary: "The customer is not in the pushing device's scopes (or is new to the server and the change does not add it to one of them), or was erased and is not one this token saw (see customer_erased). Word for word the same message in every such case, so it tells nothing of a customer the device cannot see."),
        Entry(code: .invalidChange, httpStatus: 200, use: .change,
              summary: "The change is well-formed but breaks a rule of the data model (data-model.md): an unknown field, a value of the wrong form for the field, a scope that is not kind:name, a missing record member, a customer-entity change from a device."),
        Entry(code: .customerErased, httpStatus: 200, use: .change,
              summary: "The customer was erased (right to erasure) and this token saw it: the token wrote an accepted change of it, or a store of the token holds it or was sent it and has not confirmed its purge. Dropped for good: drop it, keep nothing of it; the next pull purges the customer."),
        Entry(code: .replicaConflict, httpStatus: 200, use: .change,
              summary: "The server holds a different change under this (replica, number): two stores share one replica id (a copied store file). Not stored; keep it aside for a person and give the copy a new store."),
    ]

    /// The codes this build knows.
    public static var known: [ErrorCode] { catalog.map(\.code) }

    /// The catalog entry of this code, or nil for a code from a newer peer.
    public var entry: Entry? { Self.catalog.first { $0.code == self } }

    /// The HTTP status that goes with the code; 400 for an unknown one.
    public var httpStatus: Int { entry?.httpStatus ?? 400 }
}
