import GRDB
import OxpeckerProtocol

/// What a batch of checked changes reads of the stored state: per customer, the
/// entries their rules need (see ``CustomerState``), collected before anything
/// is read so that the whole batch is loaded with one query per table.
struct StateKeys {
    /// The customers, in the order they first appear.
    private(set) var customers: [CustomerID] = []
    private var customerSet: Set<String> = []
    /// Register and guarded fields touched (their rows are read for every customer of the batch).
    var fields: Set<String> = []
    var guardedFields: Set<String> = []
    var setFields: Set<String> = []
    /// Record ids, each with the customer of the change that names it: a row found
    /// under another customer's id still counts as taken (records are never moved).
    var notes: [String: CustomerID] = [:]
    /// Notes whose texts and redaction are read (a note, a revision or a redaction of it).
    var noteTexts: [String: CustomerID] = [:]
    var revisions: [String: CustomerID] = [:]
    var consents: [String: CustomerID] = [:]
    var lifeEvents: [String: CustomerID] = [:]
    var contacts: [String: CustomerID] = [:]

    /// Reads the customer's presence and tombstone, whatever its changes name.
    mutating func include(_ customer: CustomerID) {
        if customerSet.insert(customer.rawValue).inserted { customers.append(customer) }
    }

    mutating func add(_ validated: ValidatedChange, of customer: CustomerID) {
        include(customer)
        func claim(_ id: String, in keys: inout [String: CustomerID]) { if keys[id] == nil { keys[id] = customer } }
        switch validated {
        case .erasure: break
        case .register(let field): fields.insert(field)
        case .guardedRegister(let field):
            fields.insert(field)
            guardedFields.insert(field)
        case .setAdd(let field, _), .setRemove(let field, _): setFields.insert(field)
        case .note(let id, _, _, _, _, _, _):
            claim(id, in: &notes)
            claim(id, in: &noteTexts)
            claim(id, in: &revisions)
        case .noteRevision(let id, let note, _, _, _):
            claim(note, in: &noteTexts)
            claim(id, in: &revisions)
        case .noteRedaction(let note, _, _, _): claim(note, in: &noteTexts)
        case .consent(let id, _, _, _, _): claim(id, in: &consents)
        case .lifeEvent(let id, _, _, _, _, _): claim(id, in: &lifeEvents)
        case .contact(let id, _, _, _, _, _): claim(id, in: &contacts)
        }
    }
}

/// Reads the slices of ``CustomerState`` a batch touches, with one set-based
/// query per table for the whole batch (the keys go in as one JSON array each,
/// through `json_each`), and nothing the batch's rules do not read.
enum StateSlices {
    /// `known`: customers this transaction has seen in the `customer` table (so
    /// present and not erased), whose row and tombstone are not read again.
    static func load(_ keys: StateKeys, known: Set<String>, in db: Database) throws -> [String: CustomerState] {
        var states: [String: CustomerState] = [:]
        var unknown: [String] = []
        for customer in keys.customers {
            var state = CustomerState(customer: customer)
            if known.contains(customer.rawValue) { state.isPresent = true } else { unknown.append(customer.rawValue) }
            states[customer.rawValue] = state
        }
        if !unknown.isEmpty {
            let unknownList = list(unknown)
            try each("SELECT id FROM customer WHERE id IN (SELECT value FROM json_each(?))", [unknownList], db) { row in
                states[row[0]]?.isPresent = true
            }
            try each("SELECT id, hlc FROM erased_customer WHERE id IN (SELECT value FROM json_each(?))", [unknownList], db) { row in
                states[row[0]]?.erasure = try stamp(row[1])
            }
        }
        // Fields, guarded writes and set tags hang off a customer's row: a customer this
        // store does not hold has none (a bootstrap into an empty store reads none of them).
        let present = keys.customers.map(\.rawValue).filter { states[$0]?.isPresent == true }
        let customers = list(present)
        if !keys.fields.isEmpty, !present.isEmpty {
            try each(
                """
                SELECT customer_id, field, oxp_open(customer_id, value), hlc FROM field_value
                WHERE customer_id IN (SELECT value FROM json_each(?1)) AND field IN (SELECT value FROM json_each(?2))
                """, [customers, list(keys.fields.sorted())], db) { row in
                states[row[0]]?.registers[row[1]] = StampedValue(value: try JSONValue(parsing: row[2] as String), hlc: try stamp(row[3]))
            }
        }
        if !keys.guardedFields.isEmpty, !present.isEmpty {
            try each(
                """
                SELECT customer_id, field, hlc, oxp_open(customer_id, value), observed FROM guarded_write
                WHERE customer_id IN (SELECT value FROM json_each(?1)) AND field IN (SELECT value FROM json_each(?2))
                """, [customers, list(keys.guardedFields.sorted())], db) { row in
                let write = CausalWrite(
                    hlc: try stamp(row[2]), value: try JSONValue(parsing: row[3] as String), observed: try GuardedWrites.stamps(row[4]))
                states[row[0]]?.guarded[row[1], default: [:]][write.hlc] = write
            }
        }
        if !keys.setFields.isEmpty, !present.isEmpty {
            try each(
                """
                SELECT customer_id, field, oxp_open(customer_id, element), tag, removed_hlc FROM set_element
                WHERE customer_id IN (SELECT value FROM json_each(?1)) AND field IN (SELECT value FROM json_each(?2))
                """, [customers, list(keys.setFields.sorted())], db) { row in
                let removed = try (row[4] as String?).map(stamp)
                states[row[0]]?.sets[row[1], default: AddWinsSet()].restore(row[2], tag: try stamp(row[3]), removed: removed)
            }
        }
        try load(keys.notes, "SELECT id, author, channel, at, sentiment, follow_up, hlc FROM note", db) { owner, row in
            let entry = CustomerState.NoteEntry(
                author: row[1], channel: row[2], at: row[3], sentiment: row[4], followUp: row[5], hlc: try stamp(row[6]))
            states[owner]?.notes[row[0] as String] = entry
        }
        if !keys.noteTexts.isEmpty || !keys.revisions.isEmpty {
            // A note's texts by its id, and revisions named by id (one filed under another note is still taken).
            let sql = """
                SELECT id, note_id, oxp_open(customer_id, text), author, at, hlc FROM note_revision
                WHERE note_id IN (SELECT value FROM json_each(?1)) OR id IN (SELECT value FROM json_each(?2))
                """
            try each(sql, [list(keys.noteTexts.keys.sorted()), list(keys.revisions.keys.sorted())], db) { row in
                let id: String = row[0]
                let note: String = row[1]
                guard let owner = keys.noteTexts[note] ?? keys.revisions[id] else { return }
                let entry = CustomerState.RevisionEntry(note: note, text: row[2], author: row[3], at: row[4], hlc: try stamp(row[5]))
                states[owner.rawValue]?.revisions[id] = entry
            }
        }
        try load(keys.noteTexts, "SELECT note_id, redacted_by, at, oxp_open(customer_id, reason), hlc FROM note_redaction", idColumn: "note_id", db) { owner, row in
            let entry = CustomerState.RedactionEntry(by: row[1], at: row[2], reason: row[3], hlc: try stamp(row[4]))
            states[owner]?.redactions[row[0] as String] = entry
        }
        try load(keys.consents, "SELECT id, purpose, status, source, at, observed, hlc FROM consent_event", db) { owner, row in
            let entry = CustomerState.ConsentEntry(
                purpose: row[1], status: row[2], source: row[3], at: row[4], observed: try GuardedWrites.stamps(row[5]), hlc: try stamp(row[6]))
            states[owner]?.consents[row[0] as String] = entry
        }
        try load(keys.lifeEvents, "SELECT id, type, date, source, confidence, oxp_open(customer_id, detail), hlc FROM life_event", db) { owner, row in
            let entry = CustomerState.LifeEventEntry(
                type: row[1], date: row[2], source: row[3], confidence: row[4], detail: row[5], hlc: try stamp(row[6]))
            states[owner]?.lifeEvents[row[0] as String] = entry
        }
        try load(keys.contacts, "SELECT id, channel, purpose, oxp_open(customer_id, topic), at, outcome, hlc FROM contact", db) { owner, row in
            let entry = CustomerState.ContactEntry(
                channel: row[1], purpose: row[2], topic: row[3], at: row[4], outcome: row[5], hlc: try stamp(row[6]))
            states[owner]?.contacts[row[0] as String] = entry
        }
        return states
    }

    /// Reads the rows of `ids` (by `idColumn`) and hands each, with the customer that names its id, to `read`.
    private static func load(
        _ ids: [String: CustomerID], _ select: String, idColumn: String = "id", _ db: Database,
        read: (String, Row) throws -> Void
    ) throws {
        guard !ids.isEmpty else { return }
        try each("\(select) WHERE \(idColumn) IN (SELECT value FROM json_each(?))", [list(ids.keys.sorted())], db) { row in
            guard let owner = ids[row[0]] else { return }
            try read(owner.rawValue, row)
        }
    }

    /// Hands each row of the query to `read`, without copying rows (GRDB reuses one cursor row).
    private static func each(_ sql: String, _ arguments: StatementArguments, _ db: Database, read: (Row) throws -> Void) throws {
        let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
        while let row = try rows.next() { try read(row) }
    }

    private static func list(_ values: [String]) -> String {
        JSONValue.array(values.map { .string($0) }).canonicalText
    }

    private static func stamp(_ text: String) throws -> HybridTimestamp {
        try HybridTimestamp(parsing: text)
    }
}
