import Foundation
import Logging
import OxpeckerProtocol
@_spi(OxpeckerServer) import OxpeckerStore
import PostgresNIO

/// Encryption at rest of the PostgreSQL backend: every logged change's body
/// sealed under its customer's data key (``PostgresLogBodies``), the keys in a
/// ``PostgresKeyStore`` in another database, the data recording that key store's
/// id (`server_encryption`).
enum PostgresServerEncryption {
    /// The key store of the data at `data`, checked against what the data recorded:
    /// nil for plain data opened without a key. Refuses (``StoreError``) encrypted data
    /// without a key, a key for plain data that holds a log, a key store in the data's
    /// own database, a missing key store for encrypted data, another data's key store,
    /// and a key that is not the key store's.
    static func open(
        _ encryption: ServerEncryption?, data: PostgresSettings, client: PostgresClient, logger: Logger
    ) async throws -> PostgresKeyStore? {
        let recorded = try await recordedKeyStore(client, logger: logger)
        guard let encryption else {
            if recorded != nil { throw StoreError.keyRequired(path: data.redacted) }
            return nil
        }
        let keySettings: PostgresSettings
        do {
            var settings = try PostgresSettings(url: encryption.keyStore)
            settings.connectTimeout = data.connectTimeout
            settings.statementTimeout = data.statementTimeout
            settings.maximumConnections = max(2, data.maximumConnections / 4)
            keySettings = settings
        } catch let error as ServerError {
            throw StoreError.keyUnusable(reason: "the key store must be a PostgreSQL database apart from the data's: \(error.message)")
        }
        if keySettings.host == data.host, keySettings.port == data.port, keySettings.database == data.database {
            throw StoreError.keyUnusable(
                reason: "the key store '\(keySettings.redacted)' is the data's own database: keep it in another one (better, another server), so that no dump of the data holds the keys")
        }
        if recorded == nil, try await holdsLog(client, logger: logger) {
            throw StoreError.notEncrypted(path: data.redacted)
        }
        let keys = try await PostgresKeyStore.open(keySettings, key: encryption.key, create: recorded == nil, logger: logger)
        do {
            let kept = try await record(keys.id, client, logger: logger)
            guard kept == keys.id else {
                throw StoreError.keyUnusable(
                    reason: "the key store '\(keys.location)' (\(keys.id)) is not the one of the data in '\(data.redacted)' (\(kept))")
            }
            return keys
        } catch {
            await keys.shutdown()
            throw error
        }
    }

    private static func recordedKeyStore(_ client: PostgresClient, logger: Logger) async throws -> String? {
        for try await id in try await client.query("SELECT key_store FROM server_encryption", logger: logger).decode(String.self) { return id }
        return nil
    }

    private static func holdsLog(_ client: PostgresClient, logger: Logger) async throws -> Bool {
        for try await held in try await client.query("SELECT EXISTS (SELECT 1 FROM change_log)", logger: logger).decode(Bool.self) {
            return held
        }
        return false
    }

    /// Records `id` as the data's key store if none is yet (the first instance of new data);
    /// returns the one recorded.
    private static func record(_ id: String, _ client: PostgresClient, logger: Logger) async throws -> String {
        for try await _ in try await client.query(
            "INSERT INTO server_encryption (key_store) VALUES (\(id)) ON CONFLICT DO NOTHING", logger: logger) {}
        return try await recordedKeyStore(client, logger: logger) ?? id
    }
}

extension PostgresServerStorage {
    /// Finishes erasures on encrypted data, as the embedded backend does
    /// (`SQLiteServerStorage.settleDestroyedKeys`): a customer whose key was destroyed but
    /// who is not erased here (the data was restored from a dump made before the erasure) is
    /// erased again; an erased customer whose key is still kept (the server stopped between
    /// the two) loses it.
    func settleDestroyedKeys(at now: Instant) async throws {
        guard let keys = keyStore else { return }
        let destroyed = try await keys.destroyedCustomers()
        let erased = Set(try await transaction("reading erasures") { connection in
            var customers: [String] = []
            for try await customer in try await connection.query("SELECT customer FROM erasure", logger: connection.logger).decode(String.self) {
                customers.append(customer)
            }
            return customers
        })
        for customer in destroyed where !erased.contains(customer) {
            // Nothing of it here: its tombstone went by the compaction rule (CompactionPolicy).
            guard try await holdsAnything(of: customer) else { continue }
            logger.notice("erasing again a customer whose key an earlier erasure destroyed", metadata: ["customer": "\(customer)"])
            try await erase(CustomerID(unchecked: customer), by: SQLiteServerStorage.keyStoreActor, at: now, known: true)
        }
        // One read of the key store for every erasure, not one per customer.
        for (customer, lookup) in try await keys.lookup(erased) {
            if case .found = lookup { try await keys.destroyKey(of: customer) }
        }
    }
}

extension PostgresServerStorage {
    /// Whether the data holds any row of `customer`: a logged change, or the record that it is known.
    private func holdsAnything(of customer: String) async throws -> Bool {
        try await transaction("reading a customer") { connection in
            try await connection.one(
                """
                SELECT EXISTS (SELECT 1 FROM change_log WHERE customer = \(customer) AND kind <> 'erasure') OR EXISTS (SELECT 1 FROM known_customer WHERE customer = \(customer))
                """, as: Bool.self) ?? false
        }
    }
}

extension PostgresServerStorage {
    /// Whether the database at `settings` holds no server data yet that a key would have to
    /// fit: no log and no encryption record (so a missing server key file may be made new).
    /// Reads only. A database that cannot be read is not new (``connect(_:encryption:logger:)``
    /// then says why).
    public static func isNew(_ settings: PostgresSettings, logger: Logger) async -> Bool {
        var background = logger
        background.logLevel = max(logger.logLevel, .warning)
        var settings = settings
        settings.maximumConnections = 1
        guard let configuration = try? settings.clientConfiguration() else { return false }
        let client = PostgresClient(configuration: configuration, backgroundLogger: background)
        let runner = Task { await client.run() }
        defer { runner.cancel() }
        return (try? await PostgresFailure.guarding("connecting to \(settings.redacted)", limit: settings.connectTimeout * 2) {
            func holds(_ table: String) async throws -> Bool {
                var exists = false
                for try await found in try await client.query(
                    "SELECT to_regclass(\(table)) IS NOT NULL", logger: logger
                ).decode(Bool.self) { exists = found }
                guard exists else { return false }
                for try await found in try await client.query(
                    PostgresQuery(unsafeSQL: "SELECT EXISTS (SELECT 1 FROM \(table))"), logger: logger
                ).decode(Bool.self) { return found }
                return false
            }
            let log = try await holds("change_log")
            let recorded = try await holds("server_encryption")
            return !log && !recorded
        }) ?? false
    }
}
