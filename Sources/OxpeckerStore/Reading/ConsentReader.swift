import GRDB
import OxpeckerProtocol

/// Reads consent events and derives the consent in force with ``ConsentRules``.
enum ConsentReader {
    struct StoredEvent {
        let event: ConsentEvent
        let observed: [HybridTimestamp]
        var hlc: HybridTimestamp { event.hlc }
    }

    static func events(of customer: CustomerID, purpose: String?, in db: Database) throws -> [StoredEvent] {
        let sql =
            "SELECT id, purpose, status, source, at, hlc, observed FROM consent_event WHERE customer_id = ?"
            + (purpose == nil ? "" : " AND purpose = ?") + " ORDER BY hlc"
        var arguments: StatementArguments = [customer.rawValue]
        if let purpose { arguments += [purpose] }
        return try Array(Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments).map { try storedEvent($0, from: 0) })
    }

    /// The event in the columns id, purpose, status, source, at, hlc, observed of `row`, from `first` on.
    static func storedEvent(_ row: Row, from first: Int) throws -> StoredEvent {
        let observed = try JSONValue(parsing: row[first + 6] as String).arrayValue ?? []
        return StoredEvent(
            event: ConsentEvent(
                id: RecordID(unchecked: row[first]), purpose: ConsentPurpose(rawValue: row[first + 1]), purposeName: row[first + 1],
                status: ConsentStatus(rawValue: row[first + 2]), source: row[first + 3], at: try Instant(parsing: row[first + 4]),
                hlc: try HybridTimestamp(parsing: row[first + 5])),
            observed: try observed.map { try HybridTimestamp(parsing: $0.stringValue ?? "") })
    }

    static func allEvents(of customer: CustomerID, in db: Database) throws -> [ConsentEvent] {
        try events(of: customer, purpose: nil, in: db).map(\.event)
    }

    static func states(of customer: CustomerID, in db: Database) throws -> [ConsentState] {
        let byPurpose = Dictionary(grouping: try events(of: customer, purpose: nil, in: db), by: \.event.purposeName)
        return byPurpose.keys.sorted().compactMap { purpose in
            let events = byPurpose[purpose] ?? []
            let heads = Set(ConsentRules.heads(of: events.map { ($0.hlc, $0.observed) }))
            let decisive = ConsentRules.decisive(
                events.filter { heads.contains($0.hlc) }, isWithdrawal: { $0.event.status != .granted }, hlc: \.hlc)
            guard let decisive else { return nil }
            // An unknown status from a newer peer counts as a withdrawal: never assume consent.
            return ConsentState(purpose: purpose, status: decisive.event.status ?? .withdrawn, decidedBy: decisive.event)
        }
    }
}
