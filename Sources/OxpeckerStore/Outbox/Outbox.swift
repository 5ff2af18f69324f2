import GRDB
import OxpeckerProtocol

extension StoreReader {
    /// The outbox changes numbered after `number`, in order, at most `limit`.
    public func outbox(after number: Int64 = 0, limit: Int = 1000) throws -> [Change] {
        let replica = ReplicaID(unchecked: try String.fetchOne(db.cachedStatement(sql: "SELECT replica_id FROM store_info")) ?? "")
        return try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT number, hlc, customer_id, entity, field, record, kind, oxp_open(customer_id, value), observed
                    FROM outbox WHERE number > ? ORDER BY number LIMIT ?
                    """),
            arguments: [number, limit]
        ).map { row in
            let observedText: String? = row[8]
            let observed = try observedText.map { try JSONValue(parsing: $0).arrayValue ?? [] } ?? []
            guard let entity = Entity(rawValue: row[3]), let kind = MergeKind(rawValue: row[6]) else {
                throw StoreError.invalidInput(.invalidValue(field: "outbox", reason: "unknown entity or kind in change \(row[0] as Int64)"))
            }
            return Change(
                replica: replica, number: row[0], hlc: try HybridTimestamp(parsing: row[1]), customer: CustomerID(unchecked: row[2]),
                entity: entity, field: row[4], record: (row[5] as String?).map(RecordID.init(unchecked:)), kind: kind,
                value: try JSONValue(parsing: row[7] as String),
                observed: try observed.map { try HybridTimestamp(parsing: $0.stringValue ?? "") })
        }
    }

    /// How many changes wait in the outbox.
    public func outboxCount() throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox") ?? 0
    }

    /// The replica's latest hybrid timestamp, if it has made any change.
    public func lastTimestamp() throws -> HybridTimestamp? {
        try (String.fetchOne(db, sql: "SELECT last_hlc FROM store_info")).map { try HybridTimestamp(parsing: $0) }
    }
}
