/// An inclusive range of protocol versions.
public struct VersionRange: Hashable, Sendable {
    /// The oldest version.
    public var minimum: Int
    /// The newest version.
    public var maximum: Int

    /// Makes a range; `minimum` must not exceed `maximum`.
    public init(minimum: Int, maximum: Int) {
        self.minimum = minimum
        self.maximum = maximum
    }

    /// Whether `version` is in the range.
    public func contains(_ version: Int) -> Bool { (minimum...maximum).contains(version) }

    init(wire value: WireValue) throws(WireError) {
        var object = try value.object()
        minimum = try object.member("min").int(in: 1...Int(Int32.max))
        maximum = try object.member("max").int(in: 1...Int(Int32.max))
        try object.finish()
        guard minimum <= maximum else { throw WireError(.invalidValue, "min \(minimum) is above max \(maximum)", at: value.pointer) }
    }

    var wireJSON: JSONValue { ["min": .integer(Int64(minimum)), "max": .integer(Int64(maximum))] }
}

/// Why a server refuses a client's protocol version, and what it speaks instead.
public struct VersionRefusal: Hashable, Sendable {
    /// ``ErrorCode/upgradeRequired`` (client too old or silent) or ``ErrorCode/versionUnsupported`` (client too new).
    public let code: ErrorCode
    /// The versions the server speaks.
    public let supported: VersionRange

    /// The envelope to answer with.
    public func envelope(requestID: String, clientVersion: Int?) -> ErrorEnvelope {
        let spoken = "this server speaks protocol versions \(supported.minimum) to \(supported.maximum)"
        let message =
            if let clientVersion { "the client speaks protocol version \(clientVersion); \(spoken)" } else {
                "no \(ProtocolVersion.header) header; \(spoken)"
            }
        return ErrorEnvelope(code: code, message: message, requestID: requestID, supportedVersions: supported)
    }
}

/// The first request of a sync session: `POST /v1/hello`. The client says
/// which protocol version it speaks; the server answers with the version it
/// will use and its limits, or refuses with `upgrade_required` / `version_unsupported`.
///
/// ```swift
/// let hello = HelloRequest(protocolVersion: ProtocolVersion.current, replica: me, client: "oxpecker-cli/0.1.0")
/// ```
public struct HelloRequest: WireMessage {
    public static let wireName = "hello_request"

    /// The newest protocol version the client speaks.
    public var protocolVersion: Int
    /// The client's replica.
    public var replica: ReplicaID
    /// The client software and its version, for logs (`oxpecker-cli/0.1.0`); at most 200 characters.
    public var client: String

    /// Makes a hello.
    public init(protocolVersion: Int, replica: ReplicaID, client: String) {
        self.protocolVersion = protocolVersion
        self.replica = replica
        self.client = client
    }

    public init(wire value: WireValue) throws(WireError) {
        var object = try value.object()
        protocolVersion = try object.member("protocol_version").int(in: 1...Int(Int32.max))
        replica = try object.member("replica").identifier(ReplicaID.self)
        client = try object.member("client").string(maximum: Limits.shortTextCharacters)
        try object.finish()
    }

    public var wireJSON: JSONValue {
        ["protocol_version": .integer(Int64(protocolVersion)), "replica": .string(replica.rawValue), "client": .string(client)]
    }
}

/// The server's answer to a hello: the version both will speak, what the
/// server supports, its clock, how far ahead of it a change may be stamped,
/// and its limits.
public struct HelloResponse: WireMessage {
    public static let wireName = "hello_response"

    /// The version the server speaks to this client: the client's, when supported.
    public var protocolVersion: Int
    /// Every version the server speaks.
    public var supportedVersions: VersionRange
    /// The server's replica id.
    public var serverReplica: ReplicaID
    /// The server's clock, so a device can measure its own skew and restamp changes
    /// stamped too far ahead (``ClockRecovery``).
    public var serverTime: Instant
    /// How far ahead of ``serverTime`` a change's HLC may be, in milliseconds
    /// (`max_clock_skew_ms`); a change stamped later is refused with `clock_skew`.
    /// From protocol version 2; nil in a version 1 answer (an older server).
    public var maximumClockSkewMillis: Int64?
    /// The limits the server enforces.
    public var limits: WireLimits

    /// Makes a response.
    public init(
        protocolVersion: Int, supportedVersions: VersionRange, serverReplica: ReplicaID, serverTime: Instant,
        maximumClockSkewMillis: Int64?, limits: WireLimits
    ) {
        self.protocolVersion = protocolVersion
        self.supportedVersions = supportedVersions
        self.serverReplica = serverReplica
        self.serverTime = serverTime
        self.maximumClockSkewMillis = maximumClockSkewMillis
        self.limits = limits
    }

    /// The values `max_clock_skew_ms` may take: 1 ms up to the largest wall-clock value of an HLC.
    public static let maximumClockSkewRange: ClosedRange<Int64> = 1...HybridTimestamp.maximumWallMillis

    public init(wire value: WireValue) throws(WireError) {
        var object = try value.object()
        protocolVersion = try object.member("protocol_version").int(in: 1...Int(Int32.max))
        supportedVersions = try VersionRange(wire: object.member("supported_versions"))
        serverReplica = try object.member("server_replica").identifier(ReplicaID.self)
        serverTime = try object.member("server_time").instant()
        // Version 2 answers carry the allowance; a version 1 answer has no such member (unknown_field below).
        maximumClockSkewMillis = protocolVersion >= 2 ? try object.member("max_clock_skew_ms").integer(in: Self.maximumClockSkewRange) : nil
        limits = try WireLimits(wire: object.member("limits"))
        try object.finish()
    }

    public var wireJSON: JSONValue {
        var members: [String: JSONValue] = [
            "protocol_version": .integer(Int64(protocolVersion)), "supported_versions": supportedVersions.wireJSON,
            "server_replica": .string(serverReplica.rawValue), "server_time": .string(serverTime.description),
            "limits": limits.wireJSON,
        ]
        if let maximumClockSkewMillis { members["max_clock_skew_ms"] = .integer(maximumClockSkewMillis) }
        return .object(members)
    }
}

extension WireLimits {
    /// The wire names of the limits, as announced in ``HelloResponse``.
    static var wireKeys: [(String, WritableKeyPath<WireLimits, Int>)] {
        [
        ("max_body_bytes", \.maximumBodyBytes),
        ("max_changes_per_push", \.maximumChangesPerPush),
        ("max_changes_per_pull", \.maximumChangesPerPull),
        ("max_customers_per_page", \.maximumCustomersPerPage),
        ("max_changes_per_snapshot", \.maximumChangesPerSnapshot),
        ("max_depth", \.maximumDepth),
        ("max_string_characters", \.maximumStringCharacters),
        ("max_list_items", \.maximumListItems),
        ]
    }

    init(wire value: WireValue) throws(WireError) {
        var object = try value.object()
        var limits = WireLimits.standard
        for (key, path) in Self.wireKeys {
            limits[keyPath: path] = try object.member(key).int(in: 1...Int(Int32.max))
        }
        try object.finish()
        self = limits
    }

    var wireJSON: JSONValue {
        .object(Dictionary(uniqueKeysWithValues: Self.wireKeys.map { ($0.0, JSONValue.integer(Int64(self[keyPath: $0.1]))) }))
    }
}
