/// Every message of the protocol, in the order of the spec: the list the
/// tests hold against `Protocol/schema` and `Protocol/vectors`.
public enum WireCatalog {
    /// Every message type.
    public static let messageTypes: [any WireMessage.Type] = [
        HelloRequest.self, HelloResponse.self,
        Change.self,
        PushRequest.self, PushResponse.self,
        PullRequest.self, PullResponse.self,
        BootstrapRequest.self, BootstrapPage.self,
        PurgeNotice.self,
        ErrorEnvelope.self,
    ]

    /// The message type named `wireName`, if there is one.
    public static func messageType(named wireName: String) -> (any WireMessage.Type)? {
        messageTypes.first { $0.wireName == wireName }
    }

    /// Decodes a message named `wireName` and encodes it again: the canonical form of `body`.
    public static func canonicalize(_ body: some Collection<UInt8>, as wireName: String, codec: WireCodec = WireCodec())
        throws(WireError) -> [UInt8]
    {
        guard let type = messageType(named: wireName) else {
            throw WireError(.notFound, "no message is named '\(wireName)'")
        }
        return try roundTrip(type, body, codec)
    }

    private static func roundTrip<Message: WireMessage>(_ type: Message.Type, _ body: some Collection<UInt8>, _ codec: WireCodec)
        throws(WireError) -> [UInt8]
    {
        codec.encode(try codec.decode(type, from: body))
    }
}
