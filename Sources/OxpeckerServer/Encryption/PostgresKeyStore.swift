import Crypto
import Foundation
import Logging
@_spi(OxpeckerServer) import OxpeckerStore
import PostgresNIO
import Synchronization

/// The key store of the PostgreSQL backend's encrypted data: the customers' data
/// keys in a PostgreSQL database of their own, never the data's, shared by every
/// server instance (as the data is). Each key is wrapped by the server's key
/// (``KeyStoreWrapping``, the same as ``KeyStoreFile``'s), so the key store alone
/// opens nothing, and the data alone (its dumps, its dead tuples, its WAL) holds
/// no key.
///
/// Destroying a key (an erasure) deletes its row and remembers the customer in
/// `destroyed_key` (ids only): a customer erased once never gets a key again, and
/// data restored from a dump made before the erasure is erased again at start.
/// PostgreSQL keeps the deleted row in the key store's own table file until
/// VACUUM and in its WAL until it is recycled, wrapped by the server's key (the
/// key store's own backups are what an erasure cannot reach: SECURITY.md).
///
/// Keys are read in one query per batch of customers (a push, a page) and kept
/// in memory; a key is made by whichever instance first needs it
/// (`INSERT … ON CONFLICT DO NOTHING`, then read back: every instance agrees).
public final class PostgresKeyStore: Sendable {
    /// This key store's id (random, made with it); the data it serves records it.
    public let id: String
    /// Where it is, for messages (never a password).
    public let location: String
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let wrapping: KeyStoreWrapping
    private let logger: Logger
    private let statementTimeout: Duration
    /// Data keys read or made so far, by customer.
    private let known = Mutex<[String: SymmetricKey]>([:])

    /// The advisory lock making a new key store's tables takes ('oxpkeys').
    private static let creationLock: Int64 = 0x6F78_706B_6579_73

    /// Opens the key store in the database of `settings` under `key`. With `create`, a
    /// database that holds none gets a new, empty one; without, that is
    /// ``StoreError/keyUnusable(reason:)`` (encrypted data whose key store is lost is
    /// never given an empty one). A key that is not this key store's is ``StoreError/wrongKey(path:)``.
    public static func open(
        _ settings: PostgresSettings, key: StoreKey, create: Bool, logger: Logger = Logger(label: "oxpecker-server.keys")
    ) async throws -> PostgresKeyStore {
        var background = logger
        background.logLevel = max(logger.logLevel, .warning)
        let client = PostgresClient(configuration: try settings.clientConfiguration(), backgroundLogger: background)
        let runner = Task { await client.run() }
        do {
            let record = try await PostgresFailure.guarding("opening the key store at \(settings.redacted)", limit: settings.connectTimeout * 2) {
                try await client.withTransaction(logger: logger) { connection -> KeyStoreWrapping.Record? in
                    try await connection.run("SELECT pg_advisory_xact_lock(\(creationLock))")
                    if let record = try await Self.record(on: connection) { return record }
                    guard create else { return nil }
                    for statement in schema { try await connection.run(PostgresQuery(unsafeSQL: statement)) }
                    let (new, _) = try KeyStoreWrapping.new(key: key)
                    try await connection.run(
                        """
                        INSERT INTO oxpecker_key_store (id, kdf, salt, check_value, created_at)
                        VALUES (\(new.id), \(new.kdf), \(new.salt), \(new.check), \(Date().ISO8601Format()))
                        """)
                    return new
                }
            }
            guard let record else { throw StoreError.keyUnusable(reason: "no key store at '\(settings.redacted)'") }
            let wrapping = try KeyStoreWrapping(record: record, key: key, location: settings.redacted)
            return PostgresKeyStore(
                id: record.id, location: settings.redacted, client: client, runner: runner, wrapping: wrapping, logger: logger,
                statementTimeout: settings.statementTimeout)
        } catch {
            runner.cancel()
            await runner.value
            throw error
        }
    }

    private init(
        id: String, location: String, client: PostgresClient, runner: Task<Void, Never>, wrapping: KeyStoreWrapping, logger: Logger,
        statementTimeout: Duration
    ) {
        self.id = id
        self.location = location
        self.client = client
        self.runner = runner
        self.wrapping = wrapping
        self.logger = logger
        self.statementTimeout = statementTimeout
    }

    /// Closes the pool's connections.
    public func shutdown() async {
        runner.cancel()
        await runner.value
    }

    private static let schema = [
        """
        CREATE TABLE oxpecker_key_store (
            singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            id text NOT NULL,
            kdf text NOT NULL,
            salt bytea NOT NULL,
            check_value bytea NOT NULL,
            created_at text NOT NULL
        )
        """,
        "CREATE TABLE customer_key (customer text COLLATE \"C\" PRIMARY KEY, wrapped bytea NOT NULL)",
        "CREATE TABLE destroyed_key (customer text COLLATE \"C\" PRIMARY KEY, destroyed_at text NOT NULL)",
    ]

    /// The key store's record, or nil if the database holds no key store.
    private static func record(on connection: PostgresConnection) async throws -> KeyStoreWrapping.Record? {
        guard try await connection.one("SELECT to_regclass('oxpecker_key_store') IS NOT NULL", as: Bool.self) == true else { return nil }
        let rows = try await connection.query("SELECT id, kdf, salt, check_value FROM oxpecker_key_store", logger: connection.logger)
        for try await (id, kdf, salt, check) in rows.decode((String, String, Data, Data).self) {
            return KeyStoreWrapping.Record(id: id, kdf: kdf, salt: salt, check: check)
        }
        return nil
    }

    private func run<T: Sendable>(_ what: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await PostgresFailure.guarding("\(what) (key store)", limit: statementTimeout) { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in try await body(connection) }
        }
    }

    /// What the key store holds for `customers`, keys read from the database only for those not known yet.
    func lookup(_ customers: some Collection<String>) async throws -> [String: CustomerKeyLookup] {
        var found: [String: CustomerKeyLookup] = [:]
        var unknown: [String] = []
        known.withLock { keys in
            for customer in Set(customers) {
                if let key = keys[customer] { found[customer] = .found(key) } else { unknown.append(customer) }
            }
        }
        guard !unknown.isEmpty else { return found }
        let (wrapped, destroyed) = try await run("reading data keys") { [unknown] connection in
            var wrapped: [(String, Data)] = []
            for try await row in try await connection.query(
                "SELECT customer, wrapped FROM customer_key WHERE customer = ANY(\(unknown))", logger: connection.logger
            ).decode((String, Data).self) { wrapped.append(row) }
            var destroyed: [String] = []
            for try await customer in try await connection.query(
                "SELECT customer FROM destroyed_key WHERE customer = ANY(\(unknown))", logger: connection.logger
            ).decode(String.self) { destroyed.append(customer) }
            return (wrapped, destroyed)
        }
        var opened: [String: SymmetricKey] = [:]
        for (customer, key) in wrapped { opened[customer] = try wrapping.unwrap(key, of: customer, location: location) }
        known.withLock { $0.merge(opened) { kept, _ in kept } }
        for customer in unknown { found[customer] = .missing }
        for customer in destroyed { found[customer] = .destroyed }
        for (customer, key) in opened { found[customer] = .found(key) }
        return found
    }

    /// The data keys of `customers` for sealing: a customer with none gets one, kept
    /// here durably before this returns. A customer whose key was destroyed (erased)
    /// never gets one again: that throws.
    func sealingKeys(for customers: some Collection<String>) async throws -> [String: SymmetricKey] {
        var keys: [String: SymmetricKey] = [:]
        var missing: [String] = []
        for (customer, lookup) in try await lookup(customers) {
            switch lookup {
            case .found(let key): keys[customer] = key
            case .missing: missing.append(customer)
            case .destroyed: throw SealErrorMessage("customer '\(customer)' was erased: their data key was destroyed and is never made again")
            }
        }
        guard !missing.isEmpty else { return keys }
        let wrapped = try missing.map { try wrapping.wrap(KeyStoreWrapping.newDataKey(), of: $0).base64EncodedString() }
        _ = try await run("keeping new data keys") { [missing] connection in
            try await connection.run(
                """
                INSERT INTO customer_key (customer, wrapped)
                SELECT u.customer, decode(u.wrapped, 'base64') FROM unnest(\(missing)::text[], \(wrapped)::text[]) AS u(customer, wrapped)
                WHERE NOT EXISTS (SELECT 1 FROM destroyed_key d WHERE d.customer = u.customer)
                ON CONFLICT (customer) DO NOTHING
                """)
        }
        // Read back: another instance may have made some first.
        for (customer, lookup) in try await lookup(missing) {
            guard case .found(let key) = lookup else {
                throw SealErrorMessage("customer '\(customer)' was erased: their data key was destroyed and is never made again")
            }
            keys[customer] = key
        }
        return keys
    }

    /// Destroys the key of `customer` for good (an erasure), remembering that it did.
    public func destroyKey(of customer: String) async throws {
        try await run("destroying a data key") { connection in
            try await connection.run("DELETE FROM customer_key WHERE customer = \(customer)")
            try await connection.run(
                "INSERT INTO destroyed_key (customer, destroyed_at) VALUES (\(customer), \(Date().ISO8601Format())) ON CONFLICT DO NOTHING")
        }
        _ = known.withLock { $0.removeValue(forKey: customer) }
    }

    /// The customers whose keys were destroyed.
    public func destroyedCustomers() async throws -> [String] {
        try await run("reading destroyed keys") { connection in
            var customers: [String] = []
            for try await customer in try await connection.query(
                "SELECT customer FROM destroyed_key ORDER BY customer", logger: connection.logger
            ).decode(String.self) { customers.append(customer) }
            return customers
        }
    }

    /// How many data keys the key store holds.
    public func count() async throws -> Int {
        try await run("counting data keys") { connection in try await connection.one("SELECT count(*)::bigint FROM customer_key", as: Int.self) ?? 0 }
    }
}

/// A key that cannot be had or used: the request fails with this message.
struct SealErrorMessage: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
