import GRDB
import OxpeckerProtocol

/// Keeps the full-text index (`search_index`, FTS5) in step with customer names
/// and current note texts. Every document has a row in `search_document` whose
/// rowid is the FTS row's, so one document is replaced without scanning the index.
enum SearchIndex {
    /// The profile fields whose values are indexed as the customer's names.
    static let nameFields = [ProfileField.legalName.name, ProfileField.preferredName.name]
    /// The name fields in the order their values are joined: by field name.
    private static let sortedNameFields = nameFields.sorted()

    static func reindexName(of customer: CustomerID, in db: Database) throws {
        try replace(source: "name", ref: customer.rawValue, customer: customer.rawValue, body: try names(of: customer, in: db), in: db)
    }

    /// The text of a customer's name document: its names, in field-name order.
    static func names(of customer: CustomerID, in db: Database) throws -> String {
        // Both names in one row, by primary-key lookups (an IN list would build a temporary index on every call).
        let row = try Row.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT (SELECT oxp_open(customer_id, value) FROM field_value WHERE customer_id = ?1 AND field = ?2),
                        (SELECT oxp_open(customer_id, value) FROM field_value WHERE customer_id = ?1 AND field = ?3)
                    """),
            arguments: [customer.rawValue, sortedNameFields[0], sortedNameFields[1]])
        return [row?[0] as String?, row?[1] as String?].compactMap { $0 }
            .compactMap { try? JSONValue(parsing: $0).stringValue }.joined(separator: " ")
    }

    /// Indexes every customer's names and every note's text (a new index, or one emptied).
    static func indexAll(in db: Database) throws {
        for id in try String.fetchAll(db, sql: "SELECT id FROM customer") {
            try reindexName(of: CustomerID(unchecked: id), in: db)
        }
        for id in try String.fetchAll(db, sql: "SELECT id FROM note") {
            try reindexNote(RecordID(unchecked: id), in: db)
        }
    }

    static func reindexNote(_ note: RecordID, in db: Database) throws {
        let row = try Row.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT n.customer_id, oxp_open(r.customer_id, r.text) FROM note n
                    LEFT JOIN note_revision r ON r.note_id = n.id
                    WHERE n.id = ? ORDER BY r.hlc DESC LIMIT 1
                    """),
            arguments: [note.rawValue])
        guard let row else { return }
        let customer: String = row[0]
        let text: String? = row[1]
        try replace(source: "note", ref: note.rawValue, customer: customer, body: text ?? "", in: db)
    }

    static func replace(source: String, ref: String, customer: String, body: String, in db: Database) throws {
        let existing = try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT rowid FROM search_document WHERE source = ? AND ref = ?"),
            arguments: [source, ref])
        if let existing {
            try db.cachedStatement(sql: "DELETE FROM search_index WHERE rowid = ?").execute(arguments: [existing])
        }
        if body.isEmpty {
            if let existing {
                try db.cachedStatement(sql: "DELETE FROM search_document WHERE rowid = ?").execute(arguments: [existing])
            }
            return
        }
        let rowid: Int64
        if let existing {
            rowid = existing
        } else {
            try db.cachedStatement(sql: "INSERT INTO search_document (customer_id, source, ref) VALUES (?, ?, ?)")
                .execute(arguments: [customer, source, ref])
            rowid = db.lastInsertedRowID
        }
        // An encrypted store indexes blind tokens of the words, not the words (`oxp_search_body`).
        try db.cachedStatement(sql: "INSERT INTO search_index (rowid, body) VALUES (?, oxp_search_body(?))").execute(arguments: [rowid, body])
    }
}
