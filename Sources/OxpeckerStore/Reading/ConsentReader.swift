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
        return try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments).map { row in
            let observed = try JSONValue(parsing: row[6] as String).arrayValue ?? []
            return StoredEvent(
                event: ConsentEvent(
                    id: RecordID(unchecked: row[0]), purpose: ConsentPurpose(rawValue: row[1]), purposeName: row[1],
                    status: ConsentStatus(rawValue: row[2]), source: row[3], at: try Instant(parsing: row[4]),
                    hlc: try HybridTimestamp(parsing: row[5])),
                observed: try observed.map { try HybridTimestamp(parsing: $0.stringValue ?? "") })
        }
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
