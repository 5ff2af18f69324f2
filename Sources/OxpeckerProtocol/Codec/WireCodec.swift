/// A message of the sync protocol: decodes strictly from a ``WireValue`` and
/// encodes to one canonical ``JSONValue``.
///
/// ```swift
/// let push = try WireCodec().decode(PushRequest.self, from: body)
/// let bytes = WireCodec().encode(push.response(…))
/// ```
public protocol WireMessage: Hashable, Sendable {
    /// The message's name in `Protocol/` (`push_request`): its schema is
    /// `schema/<name>.schema.json`, its vectors `vectors/*/<name>.*.json`.
    static var wireName: String { get }
    /// Decodes the message from `value`, refusing anything the spec does not allow.
    init(wire value: WireValue) throws(WireError)
    /// The message as JSON; its ``JSONValue/canonicalText`` is the wire form.
    var wireJSON: JSONValue { get }
}

/// Reads and writes protocol messages: limits first, then strict JSON, then
/// the message's own rules. Encoding is canonical (no whitespace, keys sorted
/// by their UTF-8 bytes), so equal messages are equal bytes.
///
/// ```swift
/// let codec = WireCodec(limits: .standard)
/// let request = try codec.decode(PullRequest.self, from: body)
/// let body = codec.encode(response)
/// ```
public struct WireCodec: Sendable {
    /// The limits every decoded message must fit.
    public var limits: WireLimits

    /// A codec enforcing `limits`.
    public init(limits: WireLimits = .standard) {
        self.limits = limits
    }

    /// Decodes a message from a UTF-8 body.
    public func decode<Message: WireMessage>(_ type: Message.Type, from body: some Collection<UInt8>) throws(WireError) -> Message {
        try Message(wire: WireValue(parse(body), limits: limits))
    }

    /// Decodes a message from JSON text.
    public func decode<Message: WireMessage>(_ type: Message.Type, from text: String) throws(WireError) -> Message {
        try decode(type, from: Array(text.utf8))
    }

    /// Parses a body into exact JSON within the size and depth limits.
    public func parse(_ body: some Collection<UInt8>) throws(WireError) -> JSONValue {
        guard body.count <= limits.maximumBodyBytes else {
            throw WireError(.bodyTooLarge, "\(body.count) bytes; at most \(limits.maximumBodyBytes) are accepted")
        }
        do {
            return try JSONValue(parsing: body, maximumDepth: limits.maximumDepth)
        } catch {
            throw WireError(error, at: "")
        }
    }

    /// The canonical UTF-8 bytes of a message.
    public func encode(_ message: some WireMessage) -> [UInt8] {
        var output = [UInt8]()
        output.reserveCapacity(256)
        message.wireJSON.write(to: &output)
        return output
    }

    /// The canonical text of a message.
    public func encodeText(_ message: some WireMessage) -> String {
        message.wireJSON.canonicalText
    }
}

/// The protocol version a peer speaks, sent with every request in the
/// ``header`` HTTP header and agreed in the handshake (``HelloRequest``).
public enum ProtocolVersion {
    /// The HTTP header that carries the version on every request and response.
    public static let header = "Oxpecker-Protocol"
    /// The version this build speaks. Version 2 adds `max_clock_skew_ms` to `hello_response`
    /// (a client that says 1 gets the version 1 answer, without it); version 3 sends a
    /// bootstrap page's customers as their merged state (``SnapshotState``) rather than
    /// as changes (a client that says 1 or 2 gets changes).
    public static let current = 3
    /// The oldest version this build still answers.
    public static let oldestSupported = 1
    /// The versions this build speaks.
    public static var supported: VersionRange { VersionRange(minimum: oldestSupported, maximum: current) }

    /// What a server does with a client that speaks `version` (nil: no header).
    ///
    /// - Returns: nil to answer in that version, or the error to refuse with.
    public static func check(_ version: Int?, supported: VersionRange = supported) -> VersionRefusal? {
        guard let version, version >= supported.minimum else {
            return .init(code: .upgradeRequired, supported: supported)
        }
        guard version <= supported.maximum else {
            return .init(code: .versionUnsupported, supported: supported)
        }
        return nil
    }
}
