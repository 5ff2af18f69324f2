/// The limits a peer enforces on every message it decodes, declared once.
///
/// A message over a limit is refused with a specific ``ErrorCode`` before
/// anything in it is used. Peers share the defaults (``standard``); a server
/// announces its own in the handshake (``HelloResponse/limits``).
///
/// ```swift
/// let codec = WireCodec(limits: .standard)
/// let push = try codec.decode(PushRequest.self, from: body)
/// ```
public struct WireLimits: Hashable, Sendable {
    /// The largest body, in bytes (``ErrorCode/bodyTooLarge``).
    public var maximumBodyBytes: Int
    /// The most changes in one push (``ErrorCode/tooManyChanges``).
    public var maximumChangesPerPush: Int
    /// The most changes in one pull page; also the largest `limit` a pull may ask for.
    public var maximumChangesPerPull: Int
    /// The most customers in one bootstrap page; also the largest `limit` a bootstrap may ask for.
    public var maximumCustomersPerPage: Int
    /// The most changes kept for one customer in a snapshot.
    public var maximumChangesPerSnapshot: Int
    /// The deepest nesting of arrays and objects in a body (``ErrorCode/nestingTooDeep``).
    public var maximumDepth: Int
    /// The longest string anywhere, in Unicode code points (``ErrorCode/stringTooLong``).
    public var maximumStringCharacters: Int
    /// The most entries in any other array: observed timestamps, scopes, purges.
    public var maximumListItems: Int

    /// Makes limits; see the properties for what each one bounds.
    public init(
        maximumBodyBytes: Int, maximumChangesPerPush: Int, maximumChangesPerPull: Int,
        maximumCustomersPerPage: Int, maximumChangesPerSnapshot: Int, maximumDepth: Int,
        maximumStringCharacters: Int, maximumListItems: Int
    ) {
        self.maximumBodyBytes = maximumBodyBytes
        self.maximumChangesPerPush = maximumChangesPerPush
        self.maximumChangesPerPull = maximumChangesPerPull
        self.maximumCustomersPerPage = maximumCustomersPerPage
        self.maximumChangesPerSnapshot = maximumChangesPerSnapshot
        self.maximumDepth = maximumDepth
        self.maximumStringCharacters = maximumStringCharacters
        self.maximumListItems = maximumListItems
    }

    /// The protocol's limits, as documented in `Protocol/README.md` and the schemas.
    public static let standard = WireLimits(
        maximumBodyBytes: 8 * 1024 * 1024,
        maximumChangesPerPush: 500,
        maximumChangesPerPull: 1000,
        maximumCustomersPerPage: 200,
        maximumChangesPerSnapshot: 10_000,
        maximumDepth: 16,
        maximumStringCharacters: Limits.noteTextCharacters,
        maximumListItems: 256
    )
}

extension Limits {
    /// The longest human message in an error envelope or a rejection, in characters.
    public static let messageCharacters = 1000
    /// The longest cursor or page token, in characters.
    public static let cursorCharacters = 512
    /// The longest field name, consent purpose or other wire token, in characters.
    public static let tokenCharacters = 64
    /// The longest scope (`branch:HN01`), in characters: a token, `:`, an identifier.
    public static let scopeCharacters = 129
}
