/// The body of every refused request: a stable code to switch on, a message
/// for a person, the request id to quote to the operations team, and where
/// relevant the spot in the body or the versions the server speaks.
///
/// ```json
/// {"code":"too_many_changes","message":"501 elements; at most 500 are accepted","pointer":"/changes","request_id":"req-7f3a"}
/// ```
public struct ErrorEnvelope: WireMessage, Error {
    public static let wireName = "error_envelope"

    /// The machine-readable code (may be one from a newer server: see ``ErrorCode/isKnown``).
    public var code: ErrorCode
    /// What went wrong, for a person; at most 1000 characters.
    public var message: String
    /// The id of the request, also in the `Oxpecker-Request-Id` response header.
    public var requestID: String
    /// A JSON Pointer to the offending member, when there is one.
    public var pointer: String?
    /// The protocol versions the server speaks; sent with `upgrade_required` and `version_unsupported`.
    public var supportedVersions: VersionRange?

    /// Makes an envelope.
    public init(code: ErrorCode, message: String, requestID: String, pointer: String? = nil, supportedVersions: VersionRange? = nil) {
        self.code = code
        self.message = message
        self.requestID = requestID
        self.pointer = pointer
        self.supportedVersions = supportedVersions
    }

    public init(wire value: WireValue) throws(WireError) {
        var object = try value.object()
        code = try object.member("code").token(ErrorCode.self)
        message = try object.member("message").string(maximum: Limits.messageCharacters)
        requestID = try object.member("request_id").identifier(RequestID.self).rawValue
        pointer = try object.optionalMember("pointer")?.string(maximum: Limits.messageCharacters)
        supportedVersions = try object.optionalMember("supported_versions").map { (range) throws(WireError) in
            try VersionRange(wire: range)
        }
        try object.finish()
    }

    public var wireJSON: JSONValue {
        var members: [String: JSONValue] = [
            "code": .string(code.rawValue), "message": .string(message), "request_id": .string(requestID),
        ]
        if let pointer { members["pointer"] = .string(pointer) }
        if let supportedVersions { members["supported_versions"] = supportedVersions.wireJSON }
        return .object(members)
    }

    /// The HTTP status to answer with.
    public var httpStatus: Int { code.httpStatus }
}

/// The id of one HTTP request, chosen by the server (or taken from the
/// client's `Oxpecker-Request-Id` header when it obeys ``IdentifierRule``).
public struct RequestID: ValidatedIdentifier {
    public static let noun = "request id"
    public let rawValue: String
    public init(unchecked rawValue: String) { self.rawValue = rawValue }
}
