import GRDB
import OxpeckerProtocol

/// Writes to a customer store inside one transaction. Every write changes the
/// state tables and appends its changes to the outbox, stamped with the
/// replica's hybrid logical clock and numbered; if anything throws, the whole
/// transaction (state and outbox) is rolled back.
///
/// Get one from ``CustomerStore/write(_:)``:
///
/// ```swift
/// try await store.write { writer in
///     try writer.createCustomer("c-1001")
///     try writer.set(.preferredName, to: "Jana", of: "c-1001")
/// }
/// ```
public final class StoreWriter {
    let db: Database
    /// The replica this store is.
    public let replica: ReplicaID
    private var clock: HybridLogicalClock
    private var nextNumber: Int64
    private let wallClock: WallClock
    /// How long acknowledged changes are kept as pushed (``StoreOptions/pushedChangeRetention``).
    let pushedChangeRetention: Duration
    private let firstNumber: Int64
    private var clockMoved = false
    /// Customers this transaction has seen in the `customer` table, so that
    /// repeated writes about one customer check it once. ``purge(_:)`` forgets
    /// the customer it deletes.
    var knownCustomers: Set<String> = []
    /// Customers whose names changed in this transaction, in the order they first
    /// changed: their search document is rebuilt once, in ``finish()``, however
    /// many times their names changed (nothing reads the index inside a write).
    private var staleNames: [CustomerID] = []
    private var staleNameSet: Set<String> = []
    /// The statements of the write path, prepared once per transaction (the
    /// database's statement cache would hash their SQL on every call).
    private var hotStatements: [HotStatement: Statement] = [:]
    /// Whether a purge removed search documents: the full-text index is then
    /// rewritten once, in ``finish()``, so that no deleted word stays in its pages.
    var searchIndexNeedsCompaction = false
    /// Whether this transaction removed personal data (a redaction, a purge, an
    /// erasure): the store then empties the write-ahead log after the commit.
    var removedPersonalData = false

    init(db: Database, wallClock: WallClock, pushedChangeRetention: Duration = StoreOptions.defaultPushedChangeRetention) throws {
        self.db = db
        self.wallClock = wallClock
        self.pushedChangeRetention = pushedChangeRetention
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT replica_id, last_hlc, next_number FROM store_info"))
        else { throw StoreError.notAnOxpeckerStore(path: db.description, reason: "missing store_info") }
        replica = ReplicaID(unchecked: row[0])
        let lastText: String? = row[1]
        let last = try lastText.map { try HybridTimestamp(parsing: $0) }
        clock = HybridLogicalClock(replica: replica, last: last)
        nextNumber = row[2]
        firstNumber = nextNumber
    }

    /// Saves the clock and the next change number; called once, before commit.
    func finish() throws {
        try reindexStaleNames()
        if searchIndexNeedsCompaction {
            // FTS5 keeps deleted terms in older segments until they merge; merging
            // them all leaves the purged text only in freed pages, which secure_delete zeroes.
            try db.execute(sql: "INSERT INTO search_index (search_index) VALUES ('optimize')")
            searchIndexNeedsCompaction = false
        }
        guard nextNumber != firstNumber || clockMoved else { return }
        try db.cachedStatement(sql: "UPDATE store_info SET last_hlc = ?, next_number = ?")
            .execute(arguments: [clock.last?.description, nextNumber])
    }

    /// Marks the customer's names as changed; the search index follows in ``finish()``.
    func nameChanged(of customer: CustomerID) {
        if staleNameSet.insert(customer.rawValue).inserted { staleNames.append(customer) }
    }

    private func reindexStaleNames() throws {
        // From the state as it is at the end: a customer purged since is simply not indexed.
        for customer in staleNames { try SearchIndex.reindexName(of: customer, in: db) }
        staleNames.removeAll()
        staleNameSet.removeAll()
    }

    /// A hot-path statement, prepared on first use in this transaction.
    func statement(_ key: HotStatement) throws -> Statement {
        if let statement = hotStatements[key] { return statement }
        let statement = try db.cachedStatement(sql: key.sql)
        hotStatements[key] = statement
        return statement
    }

    /// The number of changes this writer has appended to the outbox so far.
    public var changeCount: Int64 { nextNumber - firstNumber }

    /// Stamps a new change and appends it to the outbox; returns its timestamp.
    @discardableResult
    func appendChange(
        customer: CustomerID, entity: Entity, field: String?, record: RecordID?, kind: MergeKind,
        value: JSONValue, observed: [HybridTimestamp] = []
    ) throws -> HybridTimestamp {
        try appendChange(
            customer: customer, entity: entity, field: field, record: record, kind: kind, valueText: value.canonicalText,
            observed: observed
        ).stamp
    }

    /// ``appendChange(customer:entity:field:record:kind:value:observed:)`` for a value
    /// whose canonical text the caller has already; returns the stamp with its text,
    /// so that neither is built twice.
    func appendChange(
        customer: CustomerID, entity: Entity, field: String?, record: RecordID?, kind: MergeKind,
        valueText: String, observed: [HybridTimestamp]
    ) throws -> (stamp: HybridTimestamp, text: String) {
        let stamp = clock.next(wallMillis: wallClock.now())
        let stampText = stamp.description
        try insertChange(
            stampText: stampText, customer: customer, entity: entity, field: field, record: record, kind: kind, valueText: valueText,
            observed: observed)
        return (stamp, stampText)
    }

    /// Appends a change the clock has already stamped to the outbox, numbered.
    private func insertChange(
        stampText: String, customer: CustomerID, entity: Entity, field: String?, record: RecordID?, kind: MergeKind,
        valueText: String, observed: [HybridTimestamp]
    ) throws {
        let observedText = observed.isEmpty ? nil : GuardedWrites.text(of: observed)
        try run(
            .appendChange, .integer(nextNumber), .text(stampText), .text(customer.rawValue), .text(entity.rawValue), HotArgument(field),
            HotArgument(record?.rawValue), .text(kind.rawValue), .text(valueText), HotArgument(observedText))
        nextNumber += 1
    }

    /// Moves the clock past a timestamp received from another replica, so that
    /// every later local change is later than it.
    func observe(_ remote: HybridTimestamp) {
        let before = clock.last
        clock.observe(remote)
        if clock.last != before { clockMoved = true }
    }

    /// The clock's last stamp, as this transaction has moved it.
    var clockLast: HybridTimestamp? { clock.last }

    /// Sets the clock back to `last`, saved in ``finish()``: only for the clock
    /// recovery (`StoreWriter+Restamp.swift`), which has moved every stamp above it.
    func resetClock(last: HybridTimestamp?) {
        clock = HybridLogicalClock(replica: replica, last: last)
        clockMoved = true
    }

    /// The current wall-clock time, for records that carry when they happened.
    func now() -> Instant { Instant(millisecondsSince1970: wallClock.now()) }

    func requireCustomer(_ id: CustomerID) throws {
        if knownCustomers.contains(id.rawValue) { return }
        let exists = try Bool.fetchOne(try statement(.customerExists), arguments: [id.rawValue]) ?? false
        guard exists else {
            throw try isErased(id) ? StoreError.customerErased(id) : StoreError.unknownCustomer(id)
        }
        knownCustomers.insert(id.rawValue)
    }

    func isErased(_ id: CustomerID) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM erased_customer WHERE id = ?"), arguments: [id.rawValue]) ?? false
    }

    // MARK: Customers and fields

    /// Records a new customer, in `scopes` (like `branch:HN01`) if given. Throws
    /// ``StoreError/customerExists(_:)`` if the id is taken.
    ///
    /// The scopes are recorded before anything else about the customer: a sync
    /// server accepts a customer new to it only from a change that puts it in
    /// one of the pushing device's scopes, so a device creates customers with
    /// their scopes.
    public func createCustomer(_ id: CustomerID, in scopes: [String] = []) throws {
        let exists = try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM customer WHERE id = ?"), arguments: [id.rawValue]) ?? false
        guard !exists else { throw StoreError.customerExists(id) }
        guard try !isErased(id) else { throw StoreError.customerErased(id) }
        // An encrypted store seals the customer's first changes (in the outbox, before the
        // customer's row) under its data key, made here.
        try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO customer_key (customer_id, wrapped) SELECT ?1, key FROM (SELECT oxp_new_key(?1) AS key) WHERE key IS NOT NULL"
        ).execute(arguments: [id.rawValue])
        let scopeField = ProfileSet.scopes.descriptor
        var scopeStamps: [(String, HybridTimestamp)] = []
        for scope in scopes where !scopeStamps.contains(where: { $0.0 == scope }) {
            try requireSet(scopeField, element: scope)
            let stamp = try appendChange(
                customer: id, entity: .profile, field: scopeField.name, record: nil, kind: .addWinsSet,
                value: ["element": .string(scope), "op": "add"])
            scopeStamps.append((scope, stamp))
        }
        let createdAt = now()
        let stamp = try appendChange(
            customer: id, entity: .profile, field: ProfileField.createdAt.name, record: nil, kind: .register,
            value: createdAt.json)
        try db.cachedStatement(sql: "INSERT INTO customer (id, hlc, replica) VALUES (?, ?, ?)")
            .execute(arguments: [id.rawValue, (scopeStamps.first?.1 ?? stamp).description, replica.rawValue])
        knownCustomers.insert(id.rawValue)
        for (scope, scopeStamp) in scopeStamps {
            try db.cachedStatement(sql: "INSERT INTO set_element (customer_id, field, element, tag) VALUES (?1, ?2, oxp_seal_element(?1, ?2, ?3), ?4)")
                .execute(arguments: [id.rawValue, scopeField.name, scope, scopeStamp.description])
        }
        try storeField(ProfileField.createdAt.name, value: createdAt.json, stamp: stamp, of: id)
    }

    /// Sets a single-valued field; nil clears it. Setting the value it already has records nothing.
    public func set<Value: FieldValue>(_ field: ProfileField<Value>, to value: Value?, of customer: CustomerID) throws {
        try set(field.descriptor, to: value?.json ?? .null, of: customer)
    }

    /// Sets a single-valued field from its JSON form, validating it first; `null` clears it.
    /// Returns false when the field already had this value (nothing recorded).
    @discardableResult
    public func set(_ field: FieldDescriptor, to value: JSONValue, of customer: CustomerID) throws -> Bool {
        guard !field.isSet else {
            throw StoreError.invalidValue(field: field.name, reason: "is a set: add or remove elements instead")
        }
        try field.type.validate(value, field: field.name)
        try requireCustomer(customer)
        let text = value.canonicalText
        let changed =
            field.kind == .guardedRegister
            ? try setGuarded(field, to: value, text: text, of: customer) : try setRegister(field, text: text, clears: value.isNull, of: customer)
        if changed, SearchIndex.nameFields.contains(field.name) { nameChanged(of: customer) }
        return changed
    }

    /// Sets a plain register: one statement stores the value only if it differs (a
    /// clear only if there is a value to clear), so that the write needs no read
    /// first; the change is stamped and recorded only if a row changed.
    private func setRegister(_ field: FieldDescriptor, text: String, clears: Bool, of customer: CustomerID) throws -> Bool {
        // The stamp is taken (the clock moves) only for a change.
        var advanced = clock
        let stamp = advanced.next(wallMillis: wallClock.now())
        let stampText = stamp.description
        let changed = try run(
            clears ? .clearChangedField : .storeChangedField, .text(customer.rawValue), .text(field.name), .text(text), .text(stampText),
            .text(replica.rawValue))
        guard changed > 0 else { return false }
        clock = advanced
        try insertChange(
            stampText: stampText, customer: customer, entity: .profile, field: field.name, record: nil, kind: field.kind,
            valueText: text, observed: [])
        return true
    }

    /// Sets a guarded register, naming the writes it replaces.
    private func setGuarded(_ field: FieldDescriptor, to value: JSONValue, text: String, of customer: CustomerID) throws -> Bool {
        let current = try String.fetchOne(
            try statement(.currentValue), arguments: [customer.rawValue, field.name])
        // The guarded values this write knowingly replaces (all of them, which
        // resolves a conflict): a concurrent write elsewhere becomes a conflict.
        let register = try GuardedWrites.register(of: customer, field: field.name, in: db)
        let observed = register.headStamps
        if let current, current == text, !register.isConflict { return false }
        if current == nil, value.isNull { return false }
        let (stamp, stampText) = try appendChange(
            customer: customer, entity: .profile, field: field.name, record: nil, kind: field.kind, valueText: text,
            observed: observed)
        try storeField(field.name, valueText: text, stampText: stampText, replica: stamp.replica, of: customer)
        try GuardedWrites.insert(CausalWrite(hlc: stamp, value: value, observed: observed), of: customer, field: field.name, in: db)
        return true
    }

    func storeField(_ name: String, value: JSONValue, stamp: HybridTimestamp, of customer: CustomerID) throws {
        try storeField(name, valueText: value.canonicalText, stampText: stamp.description, replica: stamp.replica, of: customer)
    }

    func storeField(_ name: String, valueText: String, stampText: String, replica: ReplicaID, of customer: CustomerID) throws {
        try run(.storeField, .text(customer.rawValue), .text(name), .text(valueText), .text(stampText), .text(replica.rawValue))
    }

    // MARK: Sets

    /// Adds `element` to a set field. Returns false if it was there already.
    ///
    /// The add is recorded either way, with a fresh tag: a person confirming an
    /// element that is present must win over a removal made concurrently
    /// elsewhere, which saw only the earlier tags (add wins).
    @discardableResult
    public func add(_ element: String, to set: ProfileSet, of customer: CustomerID) throws -> Bool {
        try add(element, toSetNamed: set.descriptor, of: customer)
    }

    /// Removes `element` from a set field. Returns false if it was not there (nothing recorded).
    @discardableResult
    public func remove(_ element: String, from set: ProfileSet, of customer: CustomerID) throws -> Bool {
        try remove(element, fromSetNamed: set.descriptor, of: customer)
    }

    /// Adds `element` to the set field `field`; see ``add(_:to:of:)``.
    @discardableResult
    public func add(_ element: String, toSetNamed field: FieldDescriptor, of customer: CustomerID) throws -> Bool {
        try requireSet(field, element: element)
        try requireCustomer(customer)
        let present = try !liveTags(of: element, in: field.name, of: customer).isEmpty
        let stamp = try appendChange(
            customer: customer, entity: .profile, field: field.name, record: nil, kind: .addWinsSet,
            value: ["element": .string(element), "op": "add"])
        try db.cachedStatement(sql: "INSERT INTO set_element (customer_id, field, element, tag) VALUES (?1, ?2, oxp_seal_element(?1, ?2, ?3), ?4)")
            .execute(arguments: [customer.rawValue, field.name, element, stamp.description])
        return !present
    }

    /// Removes `element` from the set field `field`; see ``remove(_:from:of:)``.
    @discardableResult
    public func remove(_ element: String, fromSetNamed field: FieldDescriptor, of customer: CustomerID) throws -> Bool {
        try requireSet(field, element: element)
        try requireCustomer(customer)
        let tags = try liveTags(of: element, in: field.name, of: customer)
        guard !tags.isEmpty else { return false }
        // The removal names the adds it saw: an add made concurrently elsewhere survives it (add wins).
        let stamp = try appendChange(
            customer: customer, entity: .profile, field: field.name, record: nil, kind: .addWinsSet,
            value: ["element": .string(element), "op": "remove"], observed: tags)
        try db.cachedStatement(
            sql: """
                UPDATE set_element SET removed_hlc = ?1
                WHERE customer_id = ?2 AND field = ?3 AND element = oxp_seal_element(?2, ?3, ?4) AND removed_hlc IS NULL
                """
        ).execute(arguments: [stamp.description, customer.rawValue, field.name, element])
        return true
    }

    private func requireSet(_ field: FieldDescriptor, element: String) throws {
        guard field.isSet else { throw StoreError.invalidValue(field: field.name, reason: "is not a set") }
        try field.type.validate(.string(element), field: field.name)
    }

    private func liveTags(of element: String, in field: String, of customer: CustomerID) throws -> [HybridTimestamp] {
        try String.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT tag FROM set_element
                    WHERE customer_id = ?1 AND field = ?2 AND element = oxp_seal_element(?1, ?2, ?3) AND removed_hlc IS NULL ORDER BY tag
                    """
            ),
            arguments: [customer.rawValue, field, element]
        ).map { try HybridTimestamp(parsing: $0) }
    }
}
