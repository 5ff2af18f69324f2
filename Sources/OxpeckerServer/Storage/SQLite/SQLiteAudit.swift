import GRDB
import OxpeckerProtocol

/// The audit trail in the SQLite backend: one row per event, appended in the
/// transaction of what it records (an event is there exactly when its change is).
enum SQLiteAudit {
    static func record(
        _ action: AuditEvent.Action, at: String, actor: String, customer: CustomerID? = nil, entity: String? = nil,
        field: String? = nil, record: String? = nil, token: String? = nil, detail: String? = nil, in db: Database
    ) throws {
        try db.cachedStatement(
            sql: "INSERT INTO audit_event (at, actor, action, customer, entity, field, record, token, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ).execute(arguments: [at, actor, action.rawValue, customer?.rawValue, entity, field, record, token, detail])
    }

    /// A stored change, as the trail keeps it: where it is, never what it says.
    static func recordChange(_ change: Change, by device: DeviceIdentity, at: String, in db: Database) throws {
        try record(
            .change, at: at, actor: device.tokenID, customer: change.customer, entity: change.entity.rawValue, field: change.field,
            record: change.record?.rawValue, detail: AuditEvent.detail(of: change), in: db)
    }

    static func events(_ query: AuditQuery, limit: Int, in db: Database) throws -> [AuditEvent] {
        let columns = "sequence, at, actor, action, customer, entity, field, record, token, detail"
        let rows: [Row]
        switch query {
        case .customer(let customer):
            rows = try Row.fetchAll(
                db, sql: "SELECT \(columns) FROM audit_event WHERE customer = ? ORDER BY sequence LIMIT ?",
                arguments: [customer.rawValue, limit])
        case .device(let token):
            rows = try Row.fetchAll(
                db, sql: "SELECT \(columns) FROM audit_event WHERE actor = ?1 OR token = ?1 ORDER BY sequence LIMIT ?2",
                arguments: [token, limit])
        }
        return try rows.map { row in
            AuditEvent(
                sequence: row[0], at: try Instant(parsing: row[1] as String), actor: row[2], action: AuditEvent.Action(rawValue: row[3]),
                customer: (row[4] as String?).map(CustomerID.init(unchecked:)), entity: row[5], field: row[6], record: row[7],
                token: row[8], detail: row[9])
        }
    }
}
