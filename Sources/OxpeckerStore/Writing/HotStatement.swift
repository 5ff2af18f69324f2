import GRDB
import GRDBSQLite

/// The statements of the write path that ``StoreWriter`` keeps prepared for its transaction.
enum HotStatement: Hashable {
    case appendChange, customerExists, currentValue, storeField, storeChangedField, clearChangedField
    /// The rows a merge of remote changes writes (`StoreWriter.apply`): the merge has decided, they only store.
    case insertCustomer, storeSetTag, insertNote, insertRevision, storeRedaction, insertConsent, insertLifeEvent, insertContact

    var sql: String {
        switch self {
        case .appendChange:
            """
            INSERT INTO outbox (number, hlc, customer_id, entity, field, record, kind, value, observed)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, oxp_seal(?3, ?8), ?9)
            """
        case .customerExists:
            "SELECT 1 FROM customer WHERE id = ?"
        case .currentValue:
            "SELECT oxp_open(customer_id, value) FROM field_value WHERE customer_id = ? AND field = ?"
        case .storeField:
            """
            INSERT INTO field_value (customer_id, field, value, hlc, replica) VALUES (?1, ?2, oxp_seal_field(?1, ?2, ?3), ?4, ?5)
            ON CONFLICT (customer_id, field) DO UPDATE SET value = excluded.value, hlc = excluded.hlc, replica = excluded.replica
            """
        case .storeChangedField:
            """
            INSERT INTO field_value (customer_id, field, value, hlc, replica) VALUES (?1, ?2, oxp_seal_field(?1, ?2, ?3), ?4, ?5)
            ON CONFLICT (customer_id, field) DO UPDATE SET value = excluded.value, hlc = excluded.hlc, replica = excluded.replica
            WHERE oxp_open(customer_id, value) != ?3
            """
        case .clearChangedField:
            """
            UPDATE field_value SET value = oxp_seal_field(?1, ?2, ?3), hlc = ?4, replica = ?5
            WHERE customer_id = ?1 AND field = ?2 AND oxp_open(customer_id, value) != ?3
            """
        case .insertCustomer:
            "INSERT OR IGNORE INTO customer (id, hlc, replica) VALUES (?, ?, ?)"
        case .storeSetTag:
            """
            INSERT INTO set_element (customer_id, field, element, tag, removed_hlc) VALUES (?1, ?2, oxp_seal_element(?1, ?2, ?3), ?4, ?5)
            ON CONFLICT DO UPDATE SET removed_hlc = excluded.removed_hlc
            """
        case .insertNote:
            "INSERT OR IGNORE INTO note (id, customer_id, author, channel, at, sentiment, follow_up, hlc, replica) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        case .insertRevision:
            """
            INSERT OR IGNORE INTO note_revision (id, note_id, customer_id, text, author, at, hlc, replica)
            VALUES (?1, ?2, ?3, oxp_seal(?3, ?4), ?5, ?6, ?7, ?8)
            """
        case .storeRedaction:
            """
            INSERT INTO note_redaction (note_id, customer_id, redacted_by, at, reason, hlc, replica)
            VALUES (?1, ?2, ?3, ?4, oxp_seal(?2, ?5), ?6, ?7)
            ON CONFLICT (note_id) DO UPDATE SET
                redacted_by = excluded.redacted_by, at = excluded.at, reason = excluded.reason, hlc = excluded.hlc, replica = excluded.replica
            """
        case .insertConsent:
            "INSERT OR IGNORE INTO consent_event (id, customer_id, purpose, status, source, at, observed, hlc, replica) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        case .insertLifeEvent:
            """
            INSERT OR IGNORE INTO life_event (id, customer_id, type, date, source, confidence, detail, hlc, replica)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, oxp_seal(?2, ?7), ?8, ?9)
            """
        case .insertContact:
            """
            INSERT OR IGNORE INTO contact (id, customer_id, channel, purpose, topic, at, outcome, hlc, replica)
            VALUES (?1, ?2, ?3, ?4, oxp_seal(?2, ?5), ?6, ?7, ?8, ?9)
            """
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
let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
