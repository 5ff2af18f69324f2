import Foundation
import GRDB
import GRDBSQLite

/// The SQL functions the store's statements seal and open personal values with,
/// registered on every connection. On a plain store they hand values through
/// unchanged, so every statement is the same for both kinds of store.
///
/// | function | does |
/// | --- | --- |
/// | `oxp_seal(customer, value)` | seals a TEXT value under the customer's data key (NULL customer: the records key) |
/// | `oxp_seal_field(customer, field, value)` | the same, if `field` holds personal data (``PersonalData``) |
/// | `oxp_seal_element(customer, field, element)` | a set element, deterministically (looked up by value), if personal |
/// | `oxp_open(customer, value)` | a sealed BLOB opened to its TEXT; any other value as it is |
/// | `oxp_new_key(customer)` | a new wrapped data key (the `customer_key` trigger's) |
/// | `oxp_search_body(text)` | the search index's body for `text`: its blind tokens (``BlindIndex``) |
/// | `oxp_search_pattern(query, clear)` | the FTS5 pattern for `query`: its tokens; on a plain store `clear` |
/// | `oxp_encrypted()` | 1 in an encrypted store, 0 in a plain one |
/// | `oxp_forget_key(customer)` | drops the customer's data key from memory (its row was deleted) |
///
/// A data key not yet in memory is read from `customer_key` on the same
/// connection, inside the statement's own transaction.
enum SealFunctions {
    static func register(_ ring: KeyRing?, on db: Database) throws {
        let functions: [(String, Int32, Int32, SQLiteFunction)] = [
            ("oxp_seal", 2, 0, sealCallback),
            ("oxp_seal_field", 3, 0, sealFieldCallback),
            ("oxp_seal_element", 3, SQLITE_DETERMINISTIC, sealElementCallback),
            ("oxp_open", 2, SQLITE_DETERMINISTIC, openCallback),
            ("oxp_new_key", 1, 0, newKeyCallback),
            ("oxp_search_body", 1, SQLITE_DETERMINISTIC, searchBodyCallback),
            ("oxp_search_pattern", 2, SQLITE_DETERMINISTIC, searchPatternCallback),
            ("oxp_encrypted", 0, SQLITE_DETERMINISTIC, encryptedCallback),
            ("oxp_forget_key", 1, 0, forgetKeyCallback),
        ]
        for (name, arity, flags, function) in functions {
            let box = Unmanaged.passRetained(RingBox(ring)).toOpaque()
            let code = sqlite3_create_function_v2(
                db.sqliteConnection, name, arity, SQLITE_UTF8 | flags, box, function, nil, nil, releaseBox)
            guard code == SQLITE_OK else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: "cannot register the SQL function \(name)")
            }
        }
    }

    typealias SQLiteFunction = @convention(c) (OpaquePointer?, Int32, UnsafeMutablePointer<OpaquePointer?>?) -> Void

    /// Runs `body` with the ring and the arguments; a thrown error fails the statement with its message.
    fileprivate static func run(
        _ context: OpaquePointer?, _ arguments: UnsafeMutablePointer<OpaquePointer?>?,
        _ body: (KeyRing?, UnsafeMutablePointer<OpaquePointer?>) throws -> Void
    ) {
        guard let context, let arguments, let box = sqlite3_user_data(context) else { return }
        let ring = Unmanaged<RingBox>.fromOpaque(box).takeUnretainedValue().ring
        do {
            try body(ring, arguments)
        } catch {
            sqlite3_result_error(context, "\(error)", -1)
        }
    }

    fileprivate static func text(_ value: OpaquePointer?) -> String? {
        guard sqlite3_value_type(value) == SQLITE_TEXT, let bytes = sqlite3_value_text(value) else { return nil }
        return String(cString: bytes)
    }

    fileprivate static func textBytes(_ value: OpaquePointer?) -> Data {
        guard let bytes = sqlite3_value_text(value) else { return Data() }
        return Data(bytes: bytes, count: Int(sqlite3_value_bytes(value)))
    }

    fileprivate static func blob(_ value: OpaquePointer?) -> Data {
        let count = Int(sqlite3_value_bytes(value))
        guard count > 0, let bytes = sqlite3_value_blob(value) else { return Data() }
        return Data(bytes: bytes, count: count)
    }

    /// The key values of `customer` are sealed under (nil: the records key).
    /// `create`: a customer with no key yet gets one (sealing); opening never makes one.
    fileprivate static func key(_ ring: KeyRing, customer: String?, context: OpaquePointer, create: Bool = true) throws -> SymmetricKeyAndContext {
        guard let customer else { return SymmetricKeyAndContext(key: ring.keyForRecords, context: Data("oxpecker records".utf8)) }
        let key =
            if let keys = ring.customerKeys {
                try ring.apartDataKey(for: customer, create: create, in: keys)
            } else {
                try ring.dataKey(for: customer) { try wrappedKey(of: customer, connection: sqlite3_context_db_handle(context)) }
            }
        return SymmetricKeyAndContext(key: key, context: Data(customer.utf8))
    }

    private static func wrappedKey(of customer: String, connection: OpaquePointer?) throws -> Data? {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(connection, "SELECT wrapped FROM customer_key WHERE customer_id = ?", -1, &statement, nil) == SQLITE_OK
        else { throw SealError("cannot read customer_key: \(String(cString: sqlite3_errmsg(connection)))") }
        defer { sqlite3_finalize(statement) }
        sqlite3_bind_text(statement, 1, customer, -1, sqliteTransient)
        guard sqlite3_step(statement) == SQLITE_ROW else { return nil }
        let count = Int(sqlite3_column_bytes(statement, 0))
        guard let bytes = sqlite3_column_blob(statement, 0) else { return nil }
        return Data(bytes: bytes, count: count)
    }

    fileprivate static func resultBlob(_ context: OpaquePointer?, _ data: Data) {
        data.withUnsafeBytes { sqlite3_result_blob(context, $0.baseAddress, Int32($0.count), sqliteTransient) }
    }
}

import Crypto

struct SymmetricKeyAndContext {
    let key: SymmetricKey
    let context: Data
}

/// Holds the ring for SQLite (one retained box per registered function).
private final class RingBox {
    let ring: KeyRing?
    init(_ ring: KeyRing?) { self.ring = ring }
}

private let releaseBox: @convention(c) (UnsafeMutableRawPointer?) -> Void = { box in
    if let box { Unmanaged<RingBox>.fromOpaque(box).release() }
}


private func passThrough(_ context: OpaquePointer?, _ value: OpaquePointer?) {
    sqlite3_result_value(context, value)
}

private let sealCallback: SealFunctions.SQLiteFunction = { context, _, arguments in
    SealFunctions.run(context, arguments) { ring, arguments in
        guard let ring, sqlite3_value_type(arguments[1]) == SQLITE_TEXT else { return passThrough(context, arguments[1]) }
        let key = try SealFunctions.key(ring, customer: SealFunctions.text(arguments[0]), context: context!)
        SealFunctions.resultBlob(context, try KeyRing.seal(SealFunctions.textBytes(arguments[1]), key: key.key, context: key.context))
    }
}

private let sealFieldCallback: SealFunctions.SQLiteFunction = { context, _, arguments in
    sealPersonal(context, arguments, deterministic: false)
}

private let sealElementCallback: SealFunctions.SQLiteFunction = { context, _, arguments in
    sealPersonal(context, arguments, deterministic: true)
}

/// `oxp_seal_field` and `oxp_seal_element`: (customer, field, value) sealed if the field holds
/// personal data; an element deterministically, with its field in the nonce.
private func sealPersonal(_ context: OpaquePointer?, _ arguments: UnsafeMutablePointer<OpaquePointer?>?, deterministic: Bool) {
    SealFunctions.run(context, arguments) { ring, arguments in
        guard let ring, sqlite3_value_type(arguments[2]) == SQLITE_TEXT,
            let field = SealFunctions.text(arguments[1]), PersonalData.fields.contains(field)
        else { return passThrough(context, arguments[2]) }
        let key = try SealFunctions.key(ring, customer: SealFunctions.text(arguments[0]), context: context!)
        let value = SealFunctions.textBytes(arguments[2])
        let sealed =
            deterministic
            ? try KeyRing.sealDeterministic(value, key: key.key, context: key.context, scope: field)
            : try KeyRing.seal(value, key: key.key, context: key.context)
        SealFunctions.resultBlob(context, sealed)
    }
}

private let openCallback: SealFunctions.SQLiteFunction = { context, _, arguments in
    SealFunctions.run(context, arguments) { ring, arguments in
        guard sqlite3_value_type(arguments[1]) == SQLITE_BLOB else { return passThrough(context, arguments[1]) }
        guard let ring else { throw SealError("the store holds sealed values but was opened without its key") }
        let sealed = SealFunctions.blob(arguments[1])
        let key = try SealFunctions.key(ring, customer: SealFunctions.text(arguments[0]), context: context!, create: false)
        let opened: Data
        if let plain = try? KeyRing.open(sealed, key: key.key, context: key.context) {
            opened = plain
        } else {
            throw SealError("a sealed value of customer '\(SealFunctions.text(arguments[0]) ?? "-")' does not open (damaged or moved)")
        }
        opened.withUnsafeBytes { sqlite3_result_text(context, $0.baseAddress, Int32($0.count), sqliteTransient) }
    }
}

private let newKeyCallback: SealFunctions.SQLiteFunction = { context, _, arguments in
    SealFunctions.run(context, arguments) { ring, arguments in
        // Keys kept apart: the store keeps none of its own (NULL: nothing inserted).
        guard let ring, ring.customerKeys == nil, let customer = SealFunctions.text(arguments[0]) else { return sqlite3_result_null(context) }
        SealFunctions.resultBlob(context, try ring.newWrappedDataKey(for: customer))
    }
}

private func resultText(_ context: OpaquePointer?, _ text: String) {
    var text = text
    text.withUTF8 { sqlite3_result_text(context, $0.baseAddress, Int32($0.count), sqliteTransient) }
}

private let searchBodyCallback: SealFunctions.SQLiteFunction = { context, _, arguments in
    SealFunctions.run(context, arguments) { ring, arguments in
        guard let ring, let text = SealFunctions.text(arguments[0]) else { return passThrough(context, arguments[0]) }
        resultText(context, BlindIndex.body(text, key: ring.searchKey))
    }
}

private let searchPatternCallback: SealFunctions.SQLiteFunction = { context, _, arguments in
    SealFunctions.run(context, arguments) { ring, arguments in
        guard let ring else { return passThrough(context, arguments[1]) }
        guard let query = SealFunctions.text(arguments[0]), let pattern = BlindIndex.pattern(query, key: ring.searchKey) else {
            return sqlite3_result_null(context)
        }
        resultText(context, pattern)
    }
}

private let encryptedCallback: SealFunctions.SQLiteFunction = { context, _, arguments in
    SealFunctions.run(context, arguments) { ring, _ in sqlite3_result_int(context, ring == nil ? 0 : 1) }
}

private let forgetKeyCallback: SealFunctions.SQLiteFunction = { context, _, arguments in
    SealFunctions.run(context, arguments) { ring, arguments in
        if let customer = SealFunctions.text(arguments[0]) { ring?.forget(customer) }
        sqlite3_result_null(context)
    }
}
