import GRDB
import OxpeckerProtocol

extension StoreReader {
    /// Writes the whole current state of the store as canonical JSON: customers
    /// sorted by id, records sorted by timestamp, object keys sorted, no
    /// whitespace. Two stores holding the same state write identical bytes; the
    /// outbox and the replica id are not part of the state and are left out.
    ///
    /// `output` receives the text in pieces, one customer at a time, so memory
    /// does not grow with the store.
    /// The version of the export form (Protocol/state.md): not the store's schema
    /// version, which changes with how a store keeps the state (encryption, v4), not what it is.
    public static let exportFormatVersion = 3

    public func exportJSON(to output: (String) throws -> Void) throws {
        try output("{\"customers\":[")
        let ids = try String.fetchCursor(db, sql: "SELECT id FROM customer ORDER BY id")
        var first = true
        while let id = try ids.next() {
            try output((first ? "" : ",") + (try exportedCustomer(CustomerID(unchecked: id))).canonicalText)
            first = false
        }
        try output("],\"format\":\"oxpecker-export\",\"schema_version\":\(Self.exportFormatVersion)}\n")
    }

    /// The exported form of one customer.
    func exportedCustomer(_ id: CustomerID) throws -> JSONValue {
        let key = [id.rawValue]
        var fields: [String: JSONValue] = [:]
        for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT field, oxp_open(customer_id, value), hlc FROM field_value WHERE customer_id = ?"), arguments: StatementArguments(key)) {
            fields[row[0]] = ["value": try JSONValue(parsing: row[1] as String), "hlc": .string(row[2])]
        }
        var sets: [String: JSONValue] = [:]
        for row in try Row.fetchAll(
            db.cachedStatement(sql: """
                SELECT DISTINCT field, oxp_open(customer_id, element) AS element FROM set_element
                WHERE customer_id = ? AND removed_hlc IS NULL ORDER BY field, element
                """),
            arguments: StatementArguments(key))
        {
            var elements = sets[row[0]]?.arrayValue ?? []
            elements.append(.string(row[1]))
            sets[row[0]] = .array(elements)
        }
        let consents = try ConsentReader.events(of: id, purpose: nil, in: db).map { stored -> JSONValue in
            let event = stored.event
            return [
                "id": .string(event.id.rawValue), "purpose": .string(event.purposeName),
                "status": .string(event.status?.rawValue ?? "unknown"), "source": .string(event.source),
                "at": .string(event.at.description), "hlc": .string(event.hlc.description),
                "observed": .array(stored.observed.map { .string($0.description) }),
            ]
        }
        let consentState = try ConsentReader.states(of: id, in: db).map { state -> (String, JSONValue) in
            (state.purpose, .string(state.status.rawValue))
        }
        return [
            "id": .string(id.rawValue),
            "fields": .object(fields),
            "sets": .object(sets),
            "consents": .array(consents),
            "consent_state": .object(Dictionary(uniqueKeysWithValues: consentState)),
            "life_events": .array(try rows(
                "SELECT id, type, date, source, confidence, oxp_open(customer_id, detail) AS detail, hlc FROM life_event WHERE customer_id = ? ORDER BY hlc", key)),
            "notes": .array(try exportedNotes(of: id)),
            "contacts": .array(try rows(
                "SELECT id, channel, purpose, oxp_open(customer_id, topic) AS topic, at, outcome, hlc FROM contact WHERE customer_id = ? ORDER BY hlc", key)),
        ]
    }

    private func exportedNotes(of id: CustomerID) throws -> [JSONValue] {
        let notes = try rows(
            "SELECT id, author, channel, at, sentiment, follow_up, hlc FROM note WHERE customer_id = ? ORDER BY hlc", [id.rawValue])
        let revisions = Dictionary(
            grouping: try Row.fetchAll(
                db.cachedStatement(sql: "SELECT note_id, id, oxp_open(customer_id, text), author, at, hlc FROM note_revision WHERE customer_id = ? ORDER BY hlc"),
                arguments: [id.rawValue]),
            by: { $0[0] as String })
        let redactions = Dictionary(
            uniqueKeysWithValues: try Row.fetchAll(
                db.cachedStatement(sql: "SELECT note_id, redacted_by, at, oxp_open(customer_id, reason), hlc FROM note_redaction WHERE customer_id = ?"),
                arguments: [id.rawValue]
            ).map { row in (row[0] as String, Self.object(row, names: ["note", "by", "at", "reason", "hlc"])) })
        return notes.map { note in
            guard case .object(var members) = note, let noteID = members["id"]?.stringValue else { return note }
            members["revisions"] = .array((revisions[noteID] ?? []).map { Self.object($0, names: ["note", "id", "text", "author", "at", "hlc"]) })
            members["redaction"] = redactions[noteID] ?? .null
            return .object(members)
        }
    }

    private func rows(_ sql: String, _ arguments: [String]) throws -> [JSONValue] {
        try Row.fetchAll(db.cachedStatement(sql: sql), arguments: StatementArguments(arguments)).map { row in
            Self.object(row, names: Array(row.columnNames))
        }
    }

    /// A row as a JSON object of its columns (text, integer or null), under `names`.
    private static func object(_ row: Row, names: [String]) -> JSONValue {
        var members: [String: JSONValue] = [:]
        for (index, name) in names.enumerated() {
            switch row[index] as DatabaseValue {
            case let value where value.isNull: members[name] = .null
            case let value:
                if let number = Int64.fromDatabaseValue(value), case .int64 = value.storage {
                    members[name] = .integer(number)
                } else {
                    members[name] = .string(String.fromDatabaseValue(value) ?? "")
                }
            }
        }
        return .object(members)
    }
}
