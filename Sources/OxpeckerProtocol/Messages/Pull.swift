/// A device asks for the changes in its scopes after a cursor: `POST /v1/pull`.
///
/// The scopes come from the device's token, not from the request.
///
/// ```swift
/// let request = PullRequest(after: checkpoint, limit: 500)
/// ```
public struct PullRequest: WireMessage {
    public static let wireName = "pull_request"

    /// Where the previous page ended (its `next_cursor`), or the bootstrap's
    /// `resume_cursor`; nil only to read the log from its very beginning.
    public var after: SyncCursor?
    /// The most changes wanted: 1 to ``WireLimits/maximumChangesPerPull``.
    public var limit: Int
    /// The pulling store's replica, if it says: the server then leaves the
    /// store's own changes out of the log (it has them); they still come in the
    /// whole state of a customer that enters its scopes.
    public var replica: ReplicaID?

    /// Makes a request.
    public init(after: SyncCursor?, limit: Int, replica: ReplicaID? = nil) {
        self.after = after
        self.limit = limit
        self.replica = replica
    }

    public init(wire value: WireValue) throws(WireError) {
        var object = try value.object()
        after = try object.optionalMember("after")?.cursor()
        limit = try object.member("limit").int(in: 1...value.limits.maximumChangesPerPull)
        replica = try object.optionalMember("replica")?.identifier(ReplicaID.self)
        try object.finish()
    }

    public var wireJSON: JSONValue {
        var members: [String: JSONValue] = ["limit": .integer(Int64(limit))]
        if let after { members["after"] = .string(after.rawValue) }
        if let replica { members["replica"] = .string(replica.rawValue) }
        return .object(members)
    }
}

/// One page of the log: the changes after the request's cursor, in log order.
///
/// The client applies `changes` in order, then `purges`, then stores
/// `next_cursor` in the same transaction; if `has_more`, it pulls again at once.
/// The server ends a page right after a purge notice, so no change in a page
/// follows a purge of its customer.
public struct PullResponse: WireMessage {
    public static let wireName = "pull_response"

    /// The changes, in log order (unknown kinds kept as ``ChangeItem/unsupported(_:)``).
    public var items: [ChangeItem]
    /// Customers to remove from the device, applied after the changes.
    public var purges: [PurgeNotice]
    /// The cursor to send with the next pull; stored with the page.
    public var nextCursor: SyncCursor
    /// Whether more changes are ready now.
    public var hasMore: Bool

    /// Makes a page.
    public init(changes: [Change], purges: [PurgeNotice] = [], nextCursor: SyncCursor, hasMore: Bool) {
        self.init(items: changes.map(ChangeItem.change), purges: purges, nextCursor: nextCursor, hasMore: hasMore)
    }

    /// Makes a page that may relay changes this build does not understand.
    public init(items: [ChangeItem], purges: [PurgeNotice], nextCursor: SyncCursor, hasMore: Bool) {
        self.items = items
        self.purges = purges
        self.nextCursor = nextCursor
        self.hasMore = hasMore
    }

    /// The changes this build understands, in order.
    public var changes: [Change] { items.supported }

    public init(wire value: WireValue) throws(WireError) {
        var object = try value.object()
        items = try ChangeItem.list(object.member("changes"), maximum: value.limits.maximumChangesPerPull)
        purges = try object.member("purges").array(maximum: value.limits.maximumListItems).map {
            (element) throws(WireError) in try PurgeNotice(wire: element)
        }
        nextCursor = try object.member("next_cursor").cursor()
        hasMore = try object.member("has_more").bool()
        try object.finish()
    }

    public var wireJSON: JSONValue {
        [
            "changes": .array(items.map(\.wireJSON)), "purges": .array(purges.map(\.wireJSON)),
            "next_cursor": .string(nextCursor.rawValue), "has_more": .bool(hasMore),
        ]
    }
}
