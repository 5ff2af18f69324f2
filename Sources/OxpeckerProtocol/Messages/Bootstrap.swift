/// A new device asks for a snapshot of the current state of its scopes, one
/// page of customers at a time: `POST /v1/bootstrap`.
///
/// ```swift
/// var request = BootstrapRequest(page: nil, limit: 100)
/// ```
public struct BootstrapRequest: WireMessage {
    public static let wireName = "bootstrap_request"

    /// The previous page's `next_page`; nil to start a new snapshot.
    public var page: SyncCursor?
    /// The most customers wanted: 1 to ``WireLimits/maximumCustomersPerPage``.
    public var limit: Int
    /// The bootstrapping store's replica, if it says: a new snapshot of a store
    /// replaces the store's earlier ones, which the server then forgets (an
    /// erasure no longer waits for them to confirm a purge).
    public var replica: ReplicaID?

    /// Makes a request.
    public init(page: SyncCursor?, limit: Int, replica: ReplicaID? = nil) {
        self.page = page
        self.limit = limit
        self.replica = replica
    }

    public init(wire value: WireValue) throws(WireError) {
        var object = try value.object()
        page = try object.optionalMember("page")?.cursor()
        limit = try object.member("limit").int(in: 1...value.limits.maximumCustomersPerPage)
        replica = try object.optionalMember("replica")?.identifier(ReplicaID.self)
        try object.finish()
    }

    public var wireJSON: JSONValue {
        var members: [String: JSONValue] = ["limit": .integer(Int64(limit))]
        if let page { members["page"] = .string(page.rawValue) }
        if let replica { members["replica"] = .string(replica.rawValue) }
        return .object(members)
    }
}

/// The current state of one customer: from protocol version 3 on, the merged
/// state itself (``SnapshotState``); in versions 1 and 2, the changes that make
/// it up. Either way the device merges it with the same rules as pulled changes.
public struct CustomerSnapshot: Hashable, Sendable {
    /// The customer.
    public var customer: CustomerID
    /// The customer's scopes (`branch:HN01`, `advisor:a-417`); empty for a customer not given any scope yet.
    public var scopes: [String]
    /// The customer's state, in the form of the page's protocol version.
    public var content: Content

    /// The two forms of a customer's state.
    public enum Content: Hashable, Sendable {
        /// Versions 1 and 2: the changes that make up the state, in log order
        /// (some may be of kinds this build does not understand).
        case changes([ChangeItem])
        /// Version 3: the merged state.
        case state(SnapshotState)
    }

    /// Makes a snapshot of one customer in the version 1 and 2 form.
    public init(customer: CustomerID, scopes: [String], changes: [Change]) {
        self.init(customer: customer, scopes: scopes, items: changes.map(ChangeItem.change))
    }

    /// Makes a snapshot, in the version 1 and 2 form, that may relay changes this build does not understand.
    public init(customer: CustomerID, scopes: [String], items: [ChangeItem]) {
        self.customer = customer
        self.scopes = scopes
        self.content = .changes(items)
    }

    /// Makes a snapshot in the version 3 form.
    public init(customer: CustomerID, scopes: [String], state: SnapshotState) {
        self.customer = customer
        self.scopes = scopes
        self.content = .state(state)
    }

    /// The changes to merge: those this build understands, or those the state stands for.
    public var changes: [Change] {
        switch content {
        case .changes(let items): items.supported
        case .state(let state): state.changes(of: customer)
        }
    }

    /// The changes of kinds this build does not understand (only the changes form can carry them).
    public var unsupported: [UnsupportedChange] {
        if case .changes(let items) = content { return items.unsupported }
        return []
    }

    /// How many changes or state entries the snapshot holds.
    public var entryCount: Int {
        switch content {
        case .changes(let items): items.count
        case .state(let state): state.entryCount
        }
    }

    init(wire value: WireValue) throws(WireError) {
        var object = try value.object()
        customer = try object.member("customer").identifier(CustomerID.self)
        scopes = try object.member("scopes").array(maximum: value.limits.maximumListItems).map {
            (element) throws(WireError) in try element.scope()
        }
        let changes = try object.optionalMember("changes")
        let state = try object.optionalMember("state")
        try object.finish()
        switch (changes, state) {
        case (let changes?, nil):
            let items = try ChangeItem.list(changes, maximum: value.limits.maximumChangesPerSnapshot)
            for (index, item) in items.enumerated() where item.customer != customer {
                throw WireError(
                    .invalidValue, "a change of customer '\(item.customer)' in the snapshot of '\(customer)'",
                    at: changes.pointer + "/\(index)/customer")
            }
            content = .changes(items)
        case (nil, let state?):
            content = .state(try SnapshotState(wire: state))
        case (nil, nil):
            throw WireError(.missingField, "a customer's snapshot carries 'state' (version 3) or 'changes' (versions 1 and 2)", at: value.pointer + "/state")
        case (_?, _?):
            throw WireError(.invalidValue, "a customer's snapshot carries 'state' or 'changes', not both", at: value.pointer + "/changes")
        }
    }

    var wireJSON: JSONValue {
        var members: [String: JSONValue] = ["customer": .string(customer.rawValue), "scopes": .array(scopes.map(JSONValue.string))]
        switch content {
        case .changes(let items): members["changes"] = .array(items.map(\.wireJSON))
        case .state(let state): members["state"] = state.wireJSON
        }
        return .object(members)
    }
}

/// One page of a snapshot.
///
/// The device stores each page's customers and `next_page` in one transaction.
/// When `next_page` is absent the snapshot is complete and the device starts
/// pulling from `resume_cursor` (the same on every page of one snapshot), so
/// nothing committed after the snapshot was taken is missed.
public struct BootstrapPage: WireMessage {
    public static let wireName = "bootstrap_page"

    /// The customers of this page.
    public var customers: [CustomerSnapshot]
    /// The token for the next page; nil on the last page.
    public var nextPage: SyncCursor?
    /// Where to start pulling once every page is stored.
    public var resumeCursor: SyncCursor

    /// Makes a page.
    public init(customers: [CustomerSnapshot], nextPage: SyncCursor?, resumeCursor: SyncCursor) {
        self.customers = customers
        self.nextPage = nextPage
        self.resumeCursor = resumeCursor
    }

    public init(wire value: WireValue) throws(WireError) {
        var object = try value.object()
        customers = try object.member("customers").array(maximum: value.limits.maximumCustomersPerPage).map {
            (element) throws(WireError) in try CustomerSnapshot(wire: element)
        }
        nextPage = try object.optionalMember("next_page")?.cursor()
        resumeCursor = try object.member("resume_cursor").cursor()
        try object.finish()
    }

    public var wireJSON: JSONValue {
        var members: [String: JSONValue] = [
            "customers": .array(customers.map(\.wireJSON)), "resume_cursor": .string(resumeCursor.rawValue),
        ]
        if let nextPage { members["next_page"] = .string(nextPage.rawValue) }
        return .object(members)
    }
}

/// The form of a scope: `kind:name`, like `branch:HN01` or `advisor:a-417`.
public enum ScopeRule {
    /// Whether `text` is a scope: a snake_case kind (``WireTokenRule``), `:`, and a name
    /// that obeys ``IdentifierRule``; at most 129 characters.
    public static func accepts(_ text: String) -> Bool {
        guard let colon = text.firstIndex(of: ":") else { return false }
        return WireTokenRule.accepts(String(text[..<colon]))
            && IdentifierRule.accepts(String(text[text.index(after: colon)...]))
    }
}

extension WireValue {
    /// A scope (``ScopeRule``).
    public func scope() throws(WireError) -> String {
        let text = try string(maximum: Limits.scopeCharacters)
        guard ScopeRule.accepts(text) else {
            throw WireError(.invalidValue, "'\(text)' is not a scope (kind:name, like branch:HN01)", at: pointer)
        }
        return text
    }
}
