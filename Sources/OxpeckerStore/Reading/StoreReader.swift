import GRDB
import OxpeckerProtocol

/// Reads a customer store on one consistent snapshot. Get one from ``CustomerStore/read(_:)``.
public struct StoreReader {
    let db: Database

    /// How many notes ``CustomerProfile/recentNotes`` holds.
    public static let recentNoteCount = 5
    /// How many contacts ``CustomerProfile/recentContacts`` holds.
    public static let recentContactCount = 10

    /// Whether a customer with this id exists.
    public func exists(_ id: CustomerID) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM customer WHERE id = ?"), arguments: [id.rawValue]) ?? false
    }

    /// The customer with its whole context, or ``StoreError/unknownCustomer(_:)``.
    public func profile(of id: CustomerID) throws -> CustomerProfile {
        // The existence check and the note count in one lookup: no row, no customer.
        guard let noteCount = try Int.fetchOne(
            db.cachedStatement(sql: "SELECT (SELECT count(*) FROM note WHERE customer_id = ?1) FROM customer WHERE id = ?1"),
            arguments: [id.rawValue])
        else { throw StoreError.unknownCustomer(id) }
        var fields: [String: StampedValue] = [:]
        let fieldRows = try Row.fetchCursor(
            db.cachedStatement(sql: "SELECT field, oxp_open(customer_id, value), hlc FROM field_value WHERE customer_id = ?"), arguments: [id.rawValue])
        while let row = try fieldRows.next() {
            let value = try JSONValue(parsing: row[1] as String)
            guard !value.isNull else { continue }
            fields[row[0]] = StampedValue(value: value, hlc: try HybridTimestamp(parsing: row[2] as String))
        }
        var sets: [String: [String]] = [:]
        let setRows = try Row.fetchCursor(
            db.cachedStatement(
                sql: """
                    SELECT DISTINCT field, oxp_open(customer_id, element) AS element FROM set_element
                    WHERE customer_id = ? AND removed_hlc IS NULL ORDER BY field, element
                    """),
            arguments: [id.rawValue])
        while let row = try setRows.next() {
            sets[row[0], default: []].append(row[1])
        }
        return CustomerProfile(
            id: id, fields: fields, sets: sets, consents: try ConsentReader.states(of: id, in: db),
            lifeEvents: try lifeEvents(of: id), recentNotes: try notes(of: id, limit: Self.recentNoteCount), noteCount: noteCount,
            recentContacts: try contacts(of: id, limit: Self.recentContactCount))
    }

    /// Customers matching `filter`, sorted by id.
    public func customers(matching filter: CustomerFilter) throws -> [CustomerSummary] {
        var conditions: [String] = []
        var arguments: [(any DatabaseValueConvertible)?] = []
        if let scope = filter.scope {
            conditions.append(
                "EXISTS (SELECT 1 FROM set_element s WHERE s.field = 'scopes' AND s.element = ? AND s.customer_id = c.id AND s.removed_hlc IS NULL)")
            arguments.append(scope)
        }
        for (field, value) in [("stage", filter.stage?.rawValue), ("advisor", filter.advisor), ("segment", filter.segment)] {
            guard let value else { continue }
            conditions.append("EXISTS (SELECT 1 FROM field_value f WHERE f.field = '\(field)' AND f.value = ? AND f.customer_id = c.id)")
            arguments.append(JSONValue.string(value).canonicalText)
        }
        if let after = filter.after {
            conditions.append("c.id > ?")
            arguments.append(after.rawValue)
        }
        arguments.append(max(0, filter.limit))
        let field = { (name: String) in "(SELECT oxp_open(customer_id, value) FROM field_value WHERE customer_id = c.id AND field = '\(name)')" }
        let sql = """
            SELECT c.id, \(field("legal_name")), \(field("preferred_name")), \(field("stage")), \(field("advisor")), \(field("segment"))
            FROM customer c \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY c.id LIMIT ?
            """
        let rows = try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments))
        func text(_ row: Row, _ index: Int) -> String? {
            (row[index] as String?).flatMap { try? JSONValue(parsing: $0).stringValue }
        }
        return rows.map { row in
            CustomerSummary(
                id: CustomerID(unchecked: row[0]), legalName: text(row, 1), preferredName: text(row, 2), stage: text(row, 3),
                advisor: text(row, 4), segment: text(row, 5))
        }
    }

    /// How many matching documents ``search(_:limit:)`` ranks at most: the newest
    /// this many, or `limit` if that is more.
    public static let rankedSearchCandidates = 200

    /// Customers whose names or note texts match every word of `query` (prefixes
    /// match; accents are ignored), best matches first.
    ///
    /// Ranking is bounded: when more than ``rankedSearchCandidates`` documents match
    /// (a common word in notes, a three-letter prefix of a common surname), only the
    /// newest that many (by document rowid, which FTS5 reads in order without
    /// ranking) are ranked, by bm25 then customer id. Ranking every one of tens of
    /// thousands of matches to show twenty took most of a search's time (25 ms for a
    /// common note word in 100k customers). A query that matches fewer documents
    /// (a full name, a rare word) is ranked over all its matches exactly as before,
    /// and a longer query narrows the candidates until it is.
    public func search(_ query: String, limit: Int = 20) throws -> [SearchHit] {
        guard let pattern = FTS5Pattern(matchingAllPrefixesIn: query), limit != 0 else { return [] }
        // An encrypted store's index holds blind tokens: the pattern is the query's tokens, and
        // a snippet is cut from the document's opened text instead of the index's body.
        let encrypted = try Bool.fetchOne(db.cachedStatement(sql: "SELECT oxp_encrypted()")) ?? false
        if encrypted, BlindIndex.words(query).isEmpty { return [] }
        let limit = limit < 0 ? Int(Int32.max) : limit  // as SQLite's LIMIT -1: no limit
        let candidates = try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT d.customer_id, d.source, d.ref, snippet(search_index, 0, '[', ']', '…', 12), rank, search_index.rowid
                    FROM search_index JOIN search_document d ON d.rowid = search_index.rowid
                    WHERE search_index MATCH oxp_search_pattern(?, ?) ORDER BY search_index.rowid DESC LIMIT ?
                    """),
            arguments: [query, pattern.rawPattern, max(limit, Self.rankedSearchCandidates)]
        ).map { row in
            (rank: row[4] as Double, customer: row[0] as String, rowid: row[5] as Int64, source: row[1] as String, ref: row[2] as String,
             snippet: row[3] as String)
        }
        let best = candidates.sorted { ($0.rank, $0.customer, $0.rowid) < ($1.rank, $1.customer, $1.rowid) }.prefix(limit)
        return try best.map { hit in
            let source = SearchHit.Source(rawValue: hit.source) ?? .name
            let snippet =
                encrypted
                ? BlindIndex.snippet(try documentText(source, ref: hit.ref, customer: hit.customer), query: query) : hit.snippet
            return SearchHit(
                customer: CustomerID(unchecked: hit.customer), source: source,
                note: source == .note ? RecordID(unchecked: hit.ref) : nil, snippet: snippet)
        }
    }

    /// The text a search document was made from: the customer's names, or the note's current text.
    private func documentText(_ source: SearchHit.Source, ref: String, customer: String) throws -> String {
        switch source {
        case .name:
            return try SearchIndex.names(of: CustomerID(unchecked: customer), in: db)
        case .note:
            return try String.fetchOne(
                db.cachedStatement(
                    sql: "SELECT oxp_open(customer_id, text) FROM note_revision WHERE note_id = ? ORDER BY hlc DESC LIMIT 1"),
                arguments: [ref]) ?? ""
        }
    }

    /// The customer's notes, newest first, `limit` at a time after skipping `offset`.
    public func notes(of id: CustomerID, newestFirst: Bool = true, limit: Int = 50, offset: Int = 0) throws -> [Note] {
        let order = newestFirst ? "DESC" : "ASC"
        // A cursor decodes each row in place (fetchAll would copy every row first).
        let rows = try Row.fetchCursor(
            db.cachedStatement(
                sql: """
                    SELECT n.id, n.author, n.channel, n.at, n.sentiment, n.follow_up, n.replica,
                        (SELECT oxp_open(r.customer_id, r.text) FROM note_revision r WHERE r.note_id = n.id ORDER BY r.hlc DESC LIMIT 1),
                        (SELECT count(*) FROM note_revision r WHERE r.note_id = n.id),
                        x.redacted_by, x.at, oxp_open(x.customer_id, x.reason)
                    FROM note n LEFT JOIN note_redaction x ON x.note_id = n.id
                    WHERE n.customer_id = ? ORDER BY n.at \(order), n.id \(order) LIMIT ? OFFSET ?
                    """),
            arguments: [id.rawValue, limit, offset])
        return try Array(rows.map { row in
            let redactedBy: String? = row[9]
            return Note(
                id: RecordID(unchecked: row[0]), customer: id, author: row[1], channel: Channel(rawValue: row[2]),
                at: try Instant(parsing: row[3]), text: redactedBy == nil ? row[7] : nil,
                sentiment: (row[4] as String?).flatMap(Sentiment.init(rawValue:)),
                followUp: try (row[5] as String?).map { try LocalDate(parsing: $0) }, revisionCount: row[8],
                redaction: try redactedBy.map { Redaction(by: $0, at: try Instant(parsing: row[10]), reason: row[11]) },
                device: ReplicaID(unchecked: row[6]))
        })
    }

    /// The customer's life events, latest date first.
    public func lifeEvents(of id: CustomerID) throws -> [LifeEvent] {
        try Array(
            Row.fetchCursor(
                db.cachedStatement(
                    sql: "SELECT id, type, date, source, confidence, oxp_open(customer_id, detail) FROM life_event WHERE customer_id = ? ORDER BY date DESC, id"),
                arguments: [id.rawValue]
            ).map(Self.lifeEvent))
    }

    /// The customer's contacts, newest first.
    public func contacts(of id: CustomerID, limit: Int = 100) throws -> [ContactRecord] {
        try Array(
            Row.fetchCursor(
                db.cachedStatement(
                    sql: "SELECT id, channel, purpose, oxp_open(customer_id, topic), at, outcome FROM contact WHERE customer_id = ? ORDER BY at DESC, id DESC LIMIT ?"),
                arguments: [id.rawValue, limit]
            ).map(Self.contactRecord))
    }

    /// Every consent decision of the customer, oldest first.
    public func consentHistory(of id: CustomerID) throws -> [ConsentEvent] {
        try ConsentReader.allEvents(of: id, in: db)
    }
}
