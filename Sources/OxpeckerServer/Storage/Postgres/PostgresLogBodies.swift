import Foundation
@_spi(OxpeckerServer) import OxpeckerStore

/// The change bodies of the PostgreSQL log as they are kept: on encrypted data
/// (a ``PostgresKeyStore``), sealed under their customer's data key with the
/// customer's id bound (``CustomerSealing``, the form of the SQLite backend's
/// `oxp_seal`), as `sealed:` and the base64 of the sealed bytes; on plain data,
/// the wire JSON as it is. A JSON body always starts with `{`, so the two never
/// mix up; the erasure change, which holds no personal data and whose
/// customer's key is gone, stays clear on encrypted data too.
struct PostgresLogBodies: Sendable {
    /// The key store of encrypted data; nil: plain data.
    let keys: PostgresKeyStore?

    static let sealedPrefix = "sealed:"

    var isEncrypted: Bool { keys != nil }

    /// `bodies`, as the log keeps them.
    func sealed(_ bodies: [(customer: String, body: String)]) async throws -> [String] {
        guard let keys, !bodies.isEmpty else { return bodies.map(\.body) }
        let dataKeys = try await keys.sealingKeys(for: bodies.map(\.customer))
        return try bodies.map { customer, body in
            guard let key = dataKeys[customer] else { throw SealErrorMessage("no data key for customer '\(customer)'") }
            return Self.sealedPrefix + (try CustomerSealing.seal(body, of: customer, key: key)).base64EncodedString()
        }
    }

    /// Logged bodies opened to their wire JSON. nil for a body whose customer's key was
    /// destroyed (erased after this read's snapshot was taken: the next pull purges them).
    func opened(_ rows: [(customer: String, body: String)]) async throws -> [String?] {
        let sealedCustomers = rows.filter { $0.body.hasPrefix(Self.sealedPrefix) }.map(\.customer)
        guard !sealedCustomers.isEmpty else { return rows.map(\.body) }
        guard let keys else {
            throw SealErrorMessage("the log holds sealed changes but the server was started without its key (--key-file, --key-store)")
        }
        let lookups = try await keys.lookup(sealedCustomers)
        return try rows.map { customer, body in
            guard body.hasPrefix(Self.sealedPrefix) else { return body }
            switch lookups[customer] {
            case .found(let key):
                guard let sealed = Data(base64Encoded: String(body.dropFirst(Self.sealedPrefix.count))) else {
                    throw SealErrorMessage("a sealed change of customer '\(customer)' is damaged")
                }
                return try CustomerSealing.open(sealed, of: customer, key: key)
            case .destroyed:
                return nil
            case .missing, nil:
                throw SealErrorMessage("the key store '\(keys.location)' holds no data key for customer '\(customer)', whose changes are sealed")
            }
        }
    }

    /// Logged bodies opened, those of erased customers left out.
    func openedKept(_ rows: [(customer: String, body: String)]) async throws -> [String] {
        try await opened(rows).compactMap { $0 }
    }
}
