import GRDB
import GRDBSQLite

/// The statements of the write path that ``StoreWriter`` keeps prepared for its transaction.
enum HotStatement: Hashable {
    case appendChange, customerExists, currentValue, storeField, storeChangedField, clearChangedField

    var sql: String {
        switch self {
        case .appendChange:
            """
            INSERT INTO outbox (number, hlc, customer_id, entity, field, record, kind, value, observed)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """
        case .customerExists:
            "SELECT 1 FROM customer WHERE id = ?"
        case .currentValue:
            "SELECT value FROM field_value WHERE customer_id = ? AND field = ?"
        case .storeField:
            """
            INSERT INTO field_value (customer_id, field, value, hlc, replica) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (customer_id, field) DO UPDATE SET value = excluded.value, hlc = excluded.hlc, replica = excluded.replica
            """
        case .storeChangedField:
            """
            INSERT INTO field_value (customer_id, field, value, hlc, replica) VALUES (?1, ?2, ?3, ?4, ?5)
            ON CONFLICT (customer_id, field) DO UPDATE SET value = excluded.value, hlc = excluded.hlc, replica = excluded.replica
            WHERE value != excluded.value
            """
        case .clearChangedField:
            "UPDATE field_value SET value = ?3, hlc = ?4, replica = ?5 WHERE customer_id = ?1 AND field = ?2 AND value != ?3"
        }
    }
}

/// An argument of a hot statement.
enum HotArgument {
    case text(String)
    case integer(Int64)
    case null

    init(_ text: String?) { self = text.map(HotArgument.text) ?? .null }
}

extension StoreWriter {
    /// Runs a hot statement that returns no rows, binding `arguments` through the
    /// SQLite C API: GRDB's general argument path (boxing every value, checking it
    /// against the statement, observation hooks) cost more than SQLite's own work
    /// on every change. The store registers no GRDB observers, so none is skipped.
    /// Returns how many rows the statement changed.
    @discardableResult
    func run(_ key: HotStatement, _ arguments: HotArgument...) throws -> Int {
        let handle = try statement(key).sqliteStatement
        for (offset, argument) in arguments.enumerated() {
            let index = Int32(offset + 1)
            switch argument {
            case .text(let text):
                _ = text.withCString { sqlite3_bind_text(handle, index, $0, Int32(text.utf8.count), sqliteTransient) }
            case .integer(let value): sqlite3_bind_int64(handle, index, value)
            case .null: sqlite3_bind_null(handle, index)
            }
        }
        let connection = db.sqliteConnection
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE else {
            let error = DatabaseError(
                resultCode: ResultCode(rawValue: sqlite3_extended_errcode(connection)), message: String(cString: sqlite3_errmsg(connection)),
                sql: key.sql)
            sqlite3_reset(handle)
            throw error
        }
        sqlite3_reset(handle)
        return Int(sqlite3_changes(connection))
    }
}

/// SQLite copies bound bytes (`SQLITE_TRANSIENT`, a C macro Swift does not import).
private let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
