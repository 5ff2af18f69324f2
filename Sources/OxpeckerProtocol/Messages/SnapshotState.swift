/// One customer's merged state, as a bootstrap page carries it from protocol
/// version 3 on: not the customer's history, but what the merge rules keep of
/// it (`Protocol/state.md`). Superseded register writes and the text of
/// redacted notes are not in it.
///
/// Every entry stands for exactly one change (``changes(of:)``), so a receiver
/// merges a state with the same rules, and the same code, as pulled changes:
///
/// - a register entry: the field's winning write;
/// - a guarded entry: one write of a guarded field, with what it observed
///   (every write is kept: the heads depend on them all);
/// - a set tag: an add of the element tagged `tag`, or, when `removed` is
///   set, the removal stamped `removed` that observed that tag;
/// - a record: one appended record (note, revision, redaction, consent
///   decision, life event, contact) with its value as its change carries it.
///
/// ```swift
/// let changes = snapshot.state.changes(of: snapshot.customer)  // then merge them like a pull page
/// ```
public struct SnapshotState: Hashable, Sendable {
    /// A register field's winning write.
    public struct Register: Hashable, Sendable {
        public var field: String
        public var hlc: HybridTimestamp
        public var value: JSONValue

        public init(field: String, hlc: HybridTimestamp, value: JSONValue) {
            self.field = field
            self.hlc = hlc
            self.value = value
        }
    }

    /// One write of a guarded register.
    public struct GuardedWrite: Hashable, Sendable {
        public var field: String
        public var hlc: HybridTimestamp
        public var value: JSONValue
        /// The writes of the field it knowingly superseded; empty if none.
        public var observed: [HybridTimestamp]

        public init(field: String, hlc: HybridTimestamp, value: JSONValue, observed: [HybridTimestamp]) {
            self.field = field
            self.hlc = hlc
            self.value = value
            self.observed = observed
        }
    }

    /// One add tag of a set element, and its removal if a removal observed it.
    public struct SetTag: Hashable, Sendable {
        public var field: String
        public var element: String
        public var tag: HybridTimestamp
        /// The stamp of the earliest removal that observed the tag; nil while the tag stands.
        public var removed: HybridTimestamp?

        public init(field: String, element: String, tag: HybridTimestamp, removed: HybridTimestamp?) {
            self.field = field
            self.element = element
            self.tag = tag
            self.removed = removed
        }
    }

    /// One appended record, as the change that appended it carries it.
    public struct Record: Hashable, Sendable {
        public var entity: Entity
        /// The consent purpose; nil for other records.
        public var field: String?
        public var record: RecordID
        public var hlc: HybridTimestamp
        public var value: JSONValue
        /// What a consent decision observed; empty otherwise.
        public var observed: [HybridTimestamp]

        public init(entity: Entity, field: String?, record: RecordID, hlc: HybridTimestamp, value: JSONValue, observed: [HybridTimestamp]) {
            self.entity = entity
            self.field = field
            self.record = record
            self.hlc = hlc
            self.value = value
            self.observed = observed
        }

        /// The entities a record entry may have, and the kind each merges by.
        static let kinds: [Entity: MergeKind] = [
            .note: .appendOnlyLog, .noteRevision: .appendOnlyLog, .noteRedaction: .appendOnlyLog,
            .consent: .consent, .lifeEvent: .appendOnlyLog, .contact: .appendOnlyLog,
        ]
    }

    public var registers: [Register]
    public var guardedWrites: [GuardedWrite]
    public var setTags: [SetTag]
    public var records: [Record]

    public init(registers: [Register] = [], guardedWrites: [GuardedWrite] = [], setTags: [SetTag] = [], records: [Record] = []) {
        self.registers = registers
        self.guardedWrites = guardedWrites
        self.setTags = setTags
        self.records = records
    }

    /// How many entries (changes) the state holds.
    public var entryCount: Int { registers.count + guardedWrites.count + setTags.count + records.count }

    /// The changes the entries stand for, one per entry, of `customer`. Each is
    /// made by its stamp's replica; they carry no number (0): they are merged,
    /// never stored or sent as changes.
    public func changes(of customer: CustomerID) -> [Change] {
        func change(
            _ hlc: HybridTimestamp, _ entity: Entity, field: String?, record: RecordID? = nil, kind: MergeKind, value: JSONValue,
            observed: [HybridTimestamp] = []
        ) -> Change {
            Change(
                replica: hlc.replica, number: 0, hlc: hlc, customer: customer, entity: entity, field: field, record: record, kind: kind,
                value: value, observed: observed)
        }
        var changes: [Change] = []
        changes.reserveCapacity(entryCount)
        for entry in registers {
            changes.append(change(entry.hlc, .profile, field: entry.field, kind: .register, value: entry.value))
        }
        for entry in guardedWrites {
            changes.append(change(entry.hlc, .profile, field: entry.field, kind: .guardedRegister, value: entry.value, observed: entry.observed))
        }
        for entry in setTags {
            if let removed = entry.removed {
                changes.append(
                    change(
                        removed, .profile, field: entry.field, kind: .addWinsSet,
                        value: ["element": .string(entry.element), "op": "remove"], observed: [entry.tag]))
            } else {
                changes.append(change(entry.tag, .profile, field: entry.field, kind: .addWinsSet, value: ["element": .string(entry.element), "op": "add"]))
            }
        }
        for entry in records {
            changes.append(
                change(
                    entry.hlc, entry.entity, field: entry.field, record: entry.record, kind: Record.kinds[entry.entity] ?? .appendOnlyLog,
                    value: entry.value, observed: entry.observed))
        }
        return changes
    }
}

// MARK: Wire form

extension SnapshotState {
    /// Decodes a state: four arrays, at most ``WireLimits/maximumChangesPerSnapshot``
    /// entries in all (``ErrorCode/tooManyChanges``); an entry named twice is ``ErrorCode/invalidValue``.
    init(wire value: WireValue) throws(WireError) {
        var object = try value.object()
        let maximum = value.limits.maximumChangesPerSnapshot
        let registerValues = try object.member("registers").array(maximum: maximum, code: .tooManyChanges)
        let guardedValues = try object.member("guarded").array(maximum: maximum, code: .tooManyChanges)
        let tagValues = try object.member("set_tags").array(maximum: maximum, code: .tooManyChanges)
        let recordValues = try object.member("records").array(maximum: maximum, code: .tooManyChanges)
        try object.finish()
        let total = registerValues.count + guardedValues.count + tagValues.count + recordValues.count
        guard total <= maximum else {
            throw WireError(.tooManyChanges, "\(total) entries; a customer's state holds at most \(maximum)", at: value.pointer)
        }
        registers = try Self.unique(registerValues, key: \.field, what: "a register") { (entry) throws(WireError) in
            var object = try entry.object()
            let register = Register(
                field: try object.member("field").tokenText(), hlc: try object.member("hlc").timestamp(), value: try object.member("value").exactValue())
            try object.finish()
            return register
        }
        guardedWrites = try Self.unique(guardedValues, key: { "\($0.field) \($0.hlc)" }, what: "a guarded write") { (entry) throws(WireError) in
            var object = try entry.object()
            let write = GuardedWrite(
                field: try object.member("field").tokenText(), hlc: try object.member("hlc").timestamp(),
                value: try object.member("value").exactValue(), observed: try Self.observed(&object))
            try object.finish()
            return write
        }
        setTags = try Self.unique(tagValues, key: { "\($0.field) \($0.tag) \($0.element)" }, what: "a set tag") { (entry) throws(WireError) in
            var object = try entry.object()
            let tag = SetTag(
                field: try object.member("field").tokenText(), element: try object.member("element").string(),
                tag: try object.member("tag").timestamp(), removed: try object.optionalMember("removed")?.timestamp())
            try object.finish()
            return tag
        }
        records = try Self.unique(recordValues, key: { "\($0.entity.rawValue) \($0.record)" }, what: "a record") { (entry) throws(WireError) in
            var object = try entry.object()
            let entityValue = try object.member("entity")
            let entityText = try entityValue.tokenText()
            guard let entity = Entity(rawValue: entityText), Record.kinds[entity] != nil else {
                throw WireError(.invalidValue, "'\(entityText)' is not a record entity", at: entityValue.pointer)
            }
            let record = Record(
                entity: entity, field: try object.optionalMember("field")?.tokenText(), record: try object.member("record").identifier(RecordID.self),
                hlc: try object.member("hlc").timestamp(), value: try object.member("value").exactValue(), observed: try Self.observed(&object))
            try object.finish()
            return record
        }
    }

    private static func observed(_ object: inout WireObject) throws(WireError) -> [HybridTimestamp] {
        try object.optionalMember("observed")?.array(maximum: object.limits.maximumListItems, minimum: 1).map {
            (element) throws(WireError) in try element.timestamp()
        } ?? []
    }

    /// Decodes each entry, refusing a second entry under one key.
    private static func unique<Entry>(
        _ values: [WireValue], key: (Entry) -> String, what: String, decode: (WireValue) throws(WireError) -> Entry
    ) throws(WireError) -> [Entry] {
        var seen = Set<String>()
        var entries: [Entry] = []
        entries.reserveCapacity(values.count)
        for value in values {
            let entry = try decode(value)
            guard seen.insert(key(entry)).inserted else {
                throw WireError(.invalidValue, "\(what) the state holds already", at: value.pointer)
            }
            entries.append(entry)
        }
        return entries
    }

    /// The canonical form: registers and guarded writes by field then stamp, set tags by
    /// field, element and tag, records by stamp (a receiver must not depend on the order).
    public var wireJSON: JSONValue {
        func stamps(_ list: [HybridTimestamp]) -> JSONValue { .array(list.map { .string($0.description) }) }
        let registers = registers.sorted { ($0.field, $0.hlc) < ($1.field, $1.hlc) }.map { entry -> JSONValue in
            ["field": .string(entry.field), "hlc": .string(entry.hlc.description), "value": entry.value]
        }
        let guarded = guardedWrites.sorted { ($0.field, $0.hlc) < ($1.field, $1.hlc) }.map { entry -> JSONValue in
            var members: [String: JSONValue] = ["field": .string(entry.field), "hlc": .string(entry.hlc.description), "value": entry.value]
            if !entry.observed.isEmpty { members["observed"] = stamps(entry.observed) }
            return .object(members)
        }
        let tags = setTags.sorted { left, right in
            if left.field != right.field { return left.field < right.field }
            if left.element != right.element { return left.element.utf8.lexicographicallyPrecedes(right.element.utf8) }
            return left.tag < right.tag
        }.map { entry -> JSONValue in
            var members: [String: JSONValue] = ["element": .string(entry.element), "field": .string(entry.field), "tag": .string(entry.tag.description)]
            if let removed = entry.removed { members["removed"] = .string(removed.description) }
            return .object(members)
        }
        let records = records.sorted { ($0.hlc, $0.entity.rawValue, $0.record.rawValue) < ($1.hlc, $1.entity.rawValue, $1.record.rawValue) }.map { entry -> JSONValue in
            var members: [String: JSONValue] = [
                "entity": .string(entry.entity.rawValue), "hlc": .string(entry.hlc.description), "record": .string(entry.record.rawValue), "value": entry.value,
            ]
            if let field = entry.field { members["field"] = .string(field) }
            if !entry.observed.isEmpty { members["observed"] = stamps(entry.observed) }
            return .object(members)
        }
        return ["guarded": .array(guarded), "records": .array(records), "registers": .array(registers), "set_tags": .array(tags)]
    }
}
