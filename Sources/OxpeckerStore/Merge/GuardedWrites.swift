import GRDB
import OxpeckerProtocol

/// Storage of guarded-register writes (`guarded_write`): every write of a guarded
/// field is kept with the writes it observed, so that the field's
/// ``CausalRegister`` (and so its conflicts) can be rebuilt at any time.
enum GuardedWrites {
    static func register(of customer: CustomerID, field: String, in db: Database) throws -> CausalRegister {
        let rows = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT hlc, oxp_open(customer_id, value), observed FROM guarded_write WHERE customer_id = ? AND field = ? ORDER BY hlc"),
            arguments: [customer.rawValue, field])
        return CausalRegister(
            try rows.map { row in
                CausalWrite(
                    hlc: try HybridTimestamp(parsing: row[0] as String), value: try JSONValue(parsing: row[1] as String),
                    observed: try stamps(row[2] as String))
            })
    }

    static func insert(_ write: CausalWrite, of customer: CustomerID, field: String, in db: Database) throws {
        try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO guarded_write (customer_id, field, hlc, value, observed) VALUES (?1, ?2, ?3, oxp_seal(?1, ?4), ?5)"
        ).execute(arguments: [
            customer.rawValue, field, write.hlc.description, write.value.canonicalText,
            text(of: write.observed),
        ])
    }

    /// The stored form of a list of stamps (a JSON array of their texts), which ``stamps(_:)`` reads.
    static func text(of stamps: [HybridTimestamp]) -> String {
        JSONValue.array(stamps.map { .string($0.description) }).canonicalText
    }

    static func stamps(_ text: String) throws -> [HybridTimestamp] {
        try (JSONValue(parsing: text).arrayValue ?? []).map { try HybridTimestamp(parsing: $0.stringValue ?? "") }
    }
}

/// A guarded field whose concurrent writes wait for a person to choose.
public struct FieldConflict: Sendable, Hashable {
    public let customer: CustomerID
    public let field: String
    /// The concurrent values, oldest first; the last is the one shown meanwhile.
    public let candidates: [StampedValue]
}

extension StoreReader {
    /// Every guarded field with concurrent writes, by customer and field.
    /// A person resolves one by setting the field (to one of the candidates or another value).
    public func conflicts(of customer: CustomerID? = nil) throws -> [FieldConflict] {
        let sql = """
            SELECT DISTINCT customer_id, field FROM guarded_write g
            WHERE \(customer == nil ? "1" : "customer_id = ?")
            AND (SELECT count(*) FROM guarded_write h WHERE h.customer_id = g.customer_id AND h.field = g.field) > 1
            ORDER BY customer_id, field
            """
        let pairs = try Row.fetchAll(db, sql: sql, arguments: customer.map { [$0.rawValue] } ?? [])
        return try pairs.compactMap { row in
            let id = CustomerID(unchecked: row[0])
            let register = try GuardedWrites.register(of: id, field: row[1], in: db)
            guard register.isConflict else { return nil }
            return FieldConflict(
                customer: id, field: row[1], candidates: register.heads.map { StampedValue(value: $0.value, hlc: $0.hlc) })
        }
    }
}
