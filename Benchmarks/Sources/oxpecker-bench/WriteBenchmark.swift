import Foundation
import GRDB
import GRDBSQLite
import OxpeckerProtocol
import OxpeckerStore

/// Figure 1: the cost of recording profile field changes through the store API
/// (validation, customer check, read of the current value, outbox row with an HLC
/// stamp and canonical JSON, upsert of the value, search re-index for names),
/// against the floor: one prepared INSERT per change into a plain table, in raw SQLite.
///
/// Both sides run in a new file per run, WAL, the same `synchronous`, the same
/// batches (one write transaction each), and are interleaved run by run so that
/// noise on a shared machine falls on both.
struct WriteBenchmark {
    struct Change {
        let customer: CustomerID
        let field: FieldDescriptor
        let value: JSONValue
        /// The value's canonical JSON text, prepared beforehand for the raw side.
        let text: String
    }

    struct Result {
        let durability: Durability
        let store: Samples
        let raw: Samples
        let changes: Int
    }

    let customers: [CustomerID]
    let changes: [Change]
    let batchSize: Int
    let directory: String

    init(customerCount: Int, batchSize: Int, directory: String) {
        var rng = SeededGenerator(seed: 42)
        customers = (0..<customerCount).map(Workload.customerID)
        changes = customers.flatMap { customer in
            Workload.fieldChanges(using: &rng).map { Change(customer: customer, field: $0.0, value: $0.1, text: $0.1.canonicalText) }
        }
        self.batchSize = batchSize
        self.directory = directory
    }

    func run(durability: Durability, runs: Int, progress: (String) -> Void) throws -> Result {
        var store = Samples()
        var raw = Samples()
        // Warm-up (code, page cache, allocator), not recorded.
        let warmUp = max(1, customers.count / 10)
        _ = try storeRun(durability: durability, customers: customers.prefix(warmUp), changes: changes.prefix(warmUp * 10))
        _ = try rawRun(durability: durability, changes: changes.prefix(warmUp * 10))
        for index in 0..<runs {
            // Alternate which side goes first, so that drift on the machine hits both alike.
            if index % 2 == 0 {
                store.startRun(); store.add(try storeRun(durability: durability, customers: customers[...], changes: changes[...]))
                raw.startRun(); raw.add(try rawRun(durability: durability, changes: changes[...]))
            } else {
                raw.startRun(); raw.add(try rawRun(durability: durability, changes: changes[...]))
                store.startRun(); store.add(try storeRun(durability: durability, customers: customers[...], changes: changes[...]))
            }
            progress("  run \(index + 1)/\(runs): store \(formatDuration(store.runs.last![0])), raw \(formatDuration(raw.runs.last![0]))")
        }
        return Result(durability: durability, store: store, raw: raw, changes: changes.count)
    }

    /// A new store (encrypted under `key` if there is one) with the customers created (not timed),
    /// then the changes recorded in batches (timed).
    func storeRun(
        durability: Durability, key: StoreKey? = nil, customers: ArraySlice<CustomerID>, changes: ArraySlice<Change>
    ) throws -> Double {
        let path = directory + "/write-store-\(UUID().uuidString).oxpecker"
        defer { removeDatabase(at: path) }
        let store = try CustomerStore.create(at: path, options: StoreOptions(durability: durability, key: key))
        defer { try? store.close() }
        var start = customers.startIndex
        while start < customers.endIndex {
            let end = min(start + 5000, customers.endIndex)
            try store.writeNow { writer in for id in customers[start..<end] { try writer.createCustomer(id) } }
            start = end
        }
        var recorded = 0
        let (_, seconds) = try timed {
            var start = changes.startIndex
            while start < changes.endIndex {
                let end = min(start + batchSize, changes.endIndex)
                recorded += try store.writeNow { writer in
                    var count = 0
                    for change in changes[start..<end] where try writer.set(change.field, to: change.value, of: change.customer) {
                        count += 1
                    }
                    return count
                }
                start = end
            }
        }
        guard recorded == changes.count else { throw BenchmarkError.check("store recorded \(recorded) of \(changes.count) changes") }
        return seconds
    }

    /// A new database with one plain table, then one row per change inserted through a
    /// prepared statement with the SQLite C API (bind, step, reset), in the same batches (timed).
    private func rawRun(durability: Durability, changes: ArraySlice<Change>) throws -> Double {
        let path = directory + "/write-raw-\(UUID().uuidString).sqlite"
        defer { removeDatabase(at: path) }
        let pool = try DatabasePool(path: path, configuration: Self.rawConfiguration(durability))
        defer { try? pool.close() }
        try pool.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE field_change (
                        number INTEGER PRIMARY KEY, customer_id TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL)
                    """)
        }
        let (_, seconds) = try timed {
            var start = changes.startIndex
            while start < changes.endIndex {
                let end = min(start + batchSize, changes.endIndex)
                try pool.write { db in try Self.insertRaw(changes[start..<end], firstNumber: start, into: db) }
                start = end
            }
        }
        let count = try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM field_change") } ?? 0
        guard count == changes.count else { throw BenchmarkError.check("raw inserted \(count) of \(changes.count) rows") }
        return seconds
    }

    private static func insertRaw(_ changes: ArraySlice<Change>, firstNumber: Int, into db: Database) throws {
        let connection = db.sqliteConnection
        var statement: OpaquePointer?
        let sql = "INSERT INTO field_change (number, customer_id, field, value) VALUES (?, ?, ?, ?)"
        guard sqlite3_prepare_v2(connection, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw BenchmarkError.sqlite(String(cString: sqlite3_errmsg(connection)))
        }
        defer { sqlite3_finalize(statement) }
        var number = Int64(firstNumber)
        for change in changes {
            number += 1
            sqlite3_bind_int64(statement, 1, number)
            sqlite3_bind_text(statement, 2, change.customer.rawValue, -1, sqliteTransient)
            sqlite3_bind_text(statement, 3, change.field.name, -1, sqliteTransient)
            sqlite3_bind_text(statement, 4, change.text, -1, sqliteTransient)
            guard sqlite3_step(statement) == SQLITE_DONE else {
                throw BenchmarkError.sqlite(String(cString: sqlite3_errmsg(connection)))
            }
            sqlite3_reset(statement)
        }
    }

    /// The same connection settings as the store's (WAL through the pool, `synchronous`, busy timeout).
    static func rawConfiguration(_ durability: Durability) -> Configuration {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(5)
        let synchronous = durability == .full ? "FULL" : "NORMAL"
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = \(synchronous)") }
        return configuration
    }
}

/// SQLite copies the bound bytes (`SQLITE_TRANSIENT`, a C macro Swift does not import).
let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// Removes a database file with its WAL and shared-memory files.
func removeDatabase(at path: String) {
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
}

enum BenchmarkError: Error, CustomStringConvertible {
    case check(String)
    case sqlite(String)

    var description: String {
        switch self {
        case .check(let message): "benchmark check failed: \(message)"
        case .sqlite(let message): "SQLite error: \(message)"
        }
    }
}

extension Durability {
    var label: String { self == .full ? "FULL" : "NORMAL" }
}
