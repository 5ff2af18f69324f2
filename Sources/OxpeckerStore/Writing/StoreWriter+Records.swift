import GRDB
import OxpeckerProtocol

extension StoreWriter {
    // MARK: Notes

    /// Appends a note; returns its id.
    @discardableResult
    public func addNote(_ note: NewNote, to customer: CustomerID) throws -> RecordID {
        try Self.check(note.text, "note text", max: Limits.noteTextCharacters)
        try Self.check(note.author, "author", max: Limits.shortTextCharacters)
        try requireCustomer(customer)
        let id = RecordID.random()
        let at = note.at ?? now()
        var value: [String: JSONValue] = [
            "author": .string(note.author), "channel": note.channel.json, "at": at.json, "text": .string(note.text),
        ]
        if let sentiment = note.sentiment { value["sentiment"] = sentiment.json }
        if let followUp = note.followUp { value["follow_up"] = followUp.json }
        let stamp = try appendChange(
            customer: customer, entity: .note, field: nil, record: id, kind: .appendOnlyLog, value: .object(value))
        try db.cachedStatement(
            sql: """
                INSERT INTO note (id, customer_id, author, channel, at, sentiment, follow_up, hlc, replica)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            id.rawValue, customer.rawValue, note.author, note.channel.rawValue, at.description, note.sentiment?.rawValue,
            note.followUp?.description, stamp.description, replica.rawValue,
        ])
        // The note's first text is its first revision, with the note's own id.
        try insertRevision(id: id, note: id, customer: customer, text: note.text, author: note.author, at: at, stamp: stamp)
        try SearchIndex.reindexNote(id, in: db)
        return id
    }

    /// Gives a note a new text; the earlier texts stay as revisions. Returns the revision's id.
    @discardableResult
    public func reviseNote(_ note: RecordID, text: String, author: String, at: Instant? = nil) throws -> RecordID {
        try Self.check(text, "note text", max: Limits.noteTextCharacters)
        try Self.check(author, "author", max: Limits.shortTextCharacters)
        let customer = try customerOfNote(note)
        let redacted = try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM note_redaction WHERE note_id = ?"), arguments: [note.rawValue]) ?? false
        guard !redacted else { throw StoreError.noteRedacted(note) }
        let id = RecordID.random()
        let at = at ?? now()
        let stamp = try appendChange(
            customer: customer, entity: .noteRevision, field: nil, record: id, kind: .appendOnlyLog,
            value: ["note": .string(note.rawValue), "text": .string(text), "author": .string(author), "at": at.json])
        try insertRevision(id: id, note: note, customer: customer, text: text, author: author, at: at, stamp: stamp)
        try SearchIndex.reindexNote(note, in: db)
        return id
    }

    /// Removes a note's text everywhere (every revision, and changes not yet sent),
    /// keeping who wrote it and when, and who redacted it. Returns false if it was redacted already.
    @discardableResult
    public func redactNote(_ note: RecordID, by: String, reason: String? = nil, at: Instant? = nil) throws -> Bool {
        try Self.check(by, "redacted by", max: Limits.shortTextCharacters)
        if let reason { try Self.check(reason, "reason", max: Limits.shortTextCharacters) }
        let customer = try customerOfNote(note)
        let redacted = try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM note_redaction WHERE note_id = ?"), arguments: [note.rawValue]) ?? false
        guard !redacted else { return false }
        let at = at ?? now()
        var value: [String: JSONValue] = ["note": .string(note.rawValue), "by": .string(by), "at": at.json]
        if let reason { value["reason"] = .string(reason) }
        let stamp = try appendChange(
            customer: customer, entity: .noteRedaction, field: nil, record: note, kind: .appendOnlyLog, value: .object(value))
        try db.cachedStatement(
            sql: """
                INSERT INTO note_redaction (note_id, customer_id, redacted_by, at, reason, hlc, replica)
                VALUES (?1, ?2, ?3, ?4, oxp_seal(?2, ?5), ?6, ?7)
                """
        ).execute(arguments: [note.rawValue, customer.rawValue, by, at.description, reason, stamp.description, replica.rawValue])
        try forgetText(of: note)
        return true
    }

    /// After a redaction, made here or received: every revision of the note loses its text;
    /// changes still waiting in the outbox, kept as pushed, or kept aside must not carry it off this device;
    /// the note's words leave the search index, including the older segments FTS5 keeps
    /// them in; and the write-ahead log is emptied after the commit.
    func forgetText(of note: RecordID) throws {
        try db.cachedStatement(sql: "UPDATE note_revision SET text = NULL WHERE note_id = ?").execute(arguments: [note.rawValue])
        try db.cachedStatement(
            sql: """
                UPDATE outbox SET value = oxp_seal(customer_id, json_set(oxp_open(customer_id, value), '$.text', NULL))
                WHERE ((entity = 'note' AND record = ?1) OR (entity = 'note_revision' AND json_extract(oxp_open(customer_id, value), '$.note') = ?1))
                  AND json_extract(oxp_open(customer_id, value), '$.text') IS NOT NULL
                """
        ).execute(arguments: [note.rawValue])
        try db.cachedStatement(
            sql: """
                UPDATE pushed_change SET value = oxp_seal(customer_id, json_set(oxp_open(customer_id, value), '$.text', NULL))
                WHERE ((entity = 'note' AND record = ?1) OR (entity = 'note_revision' AND json_extract(oxp_open(customer_id, value), '$.note') = ?1))
                  AND json_extract(oxp_open(customer_id, value), '$.text') IS NOT NULL
                """
        ).execute(arguments: [note.rawValue])
        try db.cachedStatement(
            sql: """
                UPDATE push_rejection SET change = oxp_seal(NULL, json_set(oxp_open(NULL, change), '$.value.text', NULL))
                WHERE ((json_extract(oxp_open(NULL, change), '$.entity') = 'note' AND json_extract(oxp_open(NULL, change), '$.record') = ?1)
                       OR (json_extract(oxp_open(NULL, change), '$.entity') = 'note_revision'
                           AND json_extract(oxp_open(NULL, change), '$.value.note') = ?1))
                  AND json_extract(oxp_open(NULL, change), '$.value.text') IS NOT NULL
                """
        ).execute(arguments: [note.rawValue])
        try SearchIndex.reindexNote(note, in: db)
        searchIndexNeedsCompaction = true
        removedPersonalData = true
    }

    private func customerOfNote(_ note: RecordID) throws -> CustomerID {
        guard let customer = try String.fetchOne(db.cachedStatement(sql: "SELECT customer_id FROM note WHERE id = ?"), arguments: [note.rawValue])
        else { throw StoreError.unknownNote(note) }
        return CustomerID(unchecked: customer)
    }

    private func insertRevision(
        id: RecordID, note: RecordID, customer: CustomerID, text: String, author: String, at: Instant, stamp: HybridTimestamp
    ) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO note_revision (id, note_id, customer_id, text, author, at, hlc, replica)
                VALUES (?1, ?2, ?3, oxp_seal(?3, ?4), ?5, ?6, ?7, ?8)
                """
        ).execute(arguments: [
            id.rawValue, note.rawValue, customer.rawValue, text, author, at.description, stamp.description, replica.rawValue,
        ])
    }

    // MARK: Consents

    /// Records a consent decision for `purpose`; returns the event's id.
    ///
    /// The decision names the decisions in force that it replaces, so that a
    /// grant made elsewhere at the same time as a withdrawal here loses to it.
    @discardableResult
    public func recordConsent(
        _ status: ConsentStatus, for purpose: ConsentPurpose, source: String, at: Instant? = nil, of customer: CustomerID
    ) throws -> RecordID {
        try Self.check(source, "source", max: Limits.shortTextCharacters)
        try requireCustomer(customer)
        let heads = try ConsentRules.heads(
            of: ConsentReader.events(of: customer, purpose: purpose.rawValue, in: db).map { ($0.hlc, $0.observed) })
        let id = RecordID.random()
        let at = at ?? now()
        let stamp = try appendChange(
            customer: customer, entity: .consent, field: purpose.rawValue, record: id, kind: .consent,
            value: ["status": status.json, "source": .string(source), "at": at.json], observed: heads)
        try db.cachedStatement(
            sql: """
                INSERT INTO consent_event (id, customer_id, purpose, status, source, at, observed, hlc, replica)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            id.rawValue, customer.rawValue, purpose.rawValue, status.rawValue, source, at.description,
            GuardedWrites.text(of: heads), stamp.description, replica.rawValue,
        ])
        return id
    }

    // MARK: Life events and contacts

    /// Records a life event; returns its id.
    @discardableResult
    public func recordLifeEvent(_ event: NewLifeEvent, of customer: CustomerID) throws -> RecordID {
        try Self.check(event.source, "source", max: Limits.shortTextCharacters)
        if let detail = event.detail { try Self.check(detail, "detail", max: Limits.noteTextCharacters) }
        guard (0...100).contains(event.confidence) else {
            throw StoreError.invalidValue(field: "confidence", reason: "\(event.confidence) is not 0 to 100")
        }
        try requireCustomer(customer)
        let id = RecordID.random()
        var value: [String: JSONValue] = [
            "type": event.type.json, "date": event.date.json, "source": .string(event.source),
            "confidence": .integer(Int64(event.confidence)),
        ]
        if let detail = event.detail { value["detail"] = .string(detail) }
        let stamp = try appendChange(
            customer: customer, entity: .lifeEvent, field: nil, record: id, kind: .appendOnlyLog, value: .object(value))
        try db.cachedStatement(
            sql: """
                INSERT INTO life_event (id, customer_id, type, date, source, confidence, detail, hlc, replica)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, oxp_seal(?2, ?7), ?8, ?9)
                """
        ).execute(arguments: [
            id.rawValue, customer.rawValue, event.type.rawValue, event.date.description, event.source, event.confidence,
            event.detail, stamp.description, replica.rawValue,
        ])
        return id
    }

    /// Records a proactive contact and its outcome; returns its id.
    @discardableResult
    public func recordContact(_ contact: NewContact, of customer: CustomerID) throws -> RecordID {
        try Self.check(contact.purpose, "purpose", max: 64)
        try Self.check(contact.topic, "topic", max: Limits.shortTextCharacters)
        try requireCustomer(customer)
        let id = RecordID.random()
        let at = contact.at ?? now()
        let stamp = try appendChange(
            customer: customer, entity: .contact, field: nil, record: id, kind: .appendOnlyLog,
            value: [
                "channel": contact.channel.json, "purpose": .string(contact.purpose), "topic": .string(contact.topic),
                "outcome": contact.outcome.json, "at": at.json,
            ])
        try db.cachedStatement(
            sql: """
                INSERT INTO contact (id, customer_id, channel, purpose, topic, at, outcome, hlc, replica)
                VALUES (?1, ?2, ?3, ?4, oxp_seal(?2, ?5), ?6, ?7, ?8, ?9)
                """
        ).execute(arguments: [
            id.rawValue, customer.rawValue, contact.channel.rawValue, contact.purpose, contact.topic, at.description,
            contact.outcome.rawValue, stamp.description, replica.rawValue,
        ])
        return id
    }

    static func check(_ text: String, _ name: String, max: Int) throws {
        guard !text.isEmpty else { throw StoreError.invalidValue(field: name, reason: "must not be empty") }
        guard text.unicodeScalars.count <= max else { throw StoreError.invalidValue(field: name, reason: "longer than \(max) characters") }
    }
}
