import Crypto
import Foundation
import GRDB
import OxpeckerProtocol
import Synchronization
import Testing

@testable @_spi(OxpeckerServer) import OxpeckerStore

/// Data keys kept apart from the store (`StoreOptions.customerKeys`, the sync server's
/// key store): made with the customer, kept before the commit, destroyed for good.
@Suite("Customer keys kept apart")
struct KeyStoreFileTests {
    @Test("a store whose keys live apart keeps none itself, reads its values back after a reopen, and the key store holds one key per customer")
    func keysLiveApart() async throws {
        let folder = try TemporaryFolder()
        let key = StoreKey.generate()
        let keys = try KeyStoreFile.create(at: folder.path("customer-keys"), key: key)
        let mode = try FileManager.default.attributesOfItem(atPath: keys.path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        var options = StoreOptions(key: key)
        options.customerKeys = keys
        let store = try CustomerStore.create(at: folder.path("server.oxpecker"), options: options)
        try await store.write { writer in
            for id in ["c-1", "c-2"] {
                try writer.createCustomer(CustomerID(unchecked: id), in: ["branch:HN01"])
                try writer.set(.legalName, to: "Zdeňka Horáková \(id)", of: CustomerID(unchecked: id))
            }
        }
        #expect(try keys.count() == 2)
        let inStore = try await store.readDatabase { _, db in try Int.fetchOne(db, sql: "SELECT count(*) FROM customer_key") ?? -1 }
        #expect(inStore == 0, "the store's own customer_key stays empty")
        try store.close()

        let reopened = try CustomerStore.open(
            at: folder.path("server.oxpecker"), options: { var o = StoreOptions(key: key); o.customerKeys = try KeyStoreFile.open(at: keys.path, key: key); return o }())
        let name = try await reopened.read { try $0.profile(of: "c-2")[.legalName] }
        #expect(name == "Zdeňka Horáková c-2")
        try reopened.close()
        #expect(throws: StoreError.wrongKey(path: keys.path)) { try KeyStoreFile.open(at: keys.path, key: .generate()) }
    }

    @Test("a destroyed key is gone from the file and its write-ahead log, is never made again, and the customer's values no longer open")
    func destroyedForGood() async throws {
        let folder = try TemporaryFolder()
        let key = StoreKey.generate()
        let keys = try KeyStoreFile.create(at: folder.path("customer-keys"), key: key)
        var options = StoreOptions(key: key)
        options.customerKeys = keys
        let store = try CustomerStore.create(at: folder.path("server.oxpecker"), options: options)
        try await store.write { writer in
            try writer.createCustomer("c-1", in: ["branch:HN01"])
            try writer.set(.legalName, to: "Zdeňka Horáková", of: "c-1")
        }
        let wrapped = try await DatabaseQueue(path: keys.path).read { db in try Data.fetchOne(db, sql: "SELECT wrapped FROM customer_key") }
        let keyBytes = try #require(wrapped)
        try store.destroyDataKey(of: "c-1")

        for suffix in ["", "-wal"] {
            let bytes = FileManager.default.contents(atPath: keys.path + suffix) ?? Data()
            #expect(bytes.range(of: keyBytes) == nil, "the destroyed wrapped key is still in customer-keys\(suffix)")
        }
        #expect(try keys.destroyedCustomers() == ["c-1"])
        await #expect(throws: (any Error).self, "a value sealed under the destroyed key does not open") {
            _ = try await store.read { try $0.profile(of: "c-1") }
        }
        #expect(throws: (any Error).self, "the key store never makes a destroyed customer's key again") {
            try keys.store(["c-1": SymmetricKey(size: .bits256)])
        }
        try store.close()
    }

    @Test("a key store that cannot keep a new key fails the commit: nothing of the transaction is written")
    func failingKeyStoreFailsTheCommit() async throws {
        let folder = try TemporaryFolder()
        let key = StoreKey.generate()
        let failing = FailingKeyStore()
        var options = StoreOptions(key: key)
        options.customerKeys = failing
        let store = try CustomerStore.create(at: folder.path("server.oxpecker"), options: options)
        await #expect(throws: (any Error).self) {
            try await store.write { writer in
                try writer.createCustomer("c-1", in: ["branch:HN01"])
                try writer.set(.legalName, to: "Zdeňka Horáková", of: "c-1")
            }
        }
        #expect(try await store.read { try $0.exists("c-1") } == false, "the customer was not committed")
        #expect(try await store.read { try $0.outbox() }.isEmpty)
        #expect(failing.attempts.withLock { $0 } == 1)
        try store.close()
    }
}

/// A key provider whose storage fails (a KMS that cannot be reached).
final class FailingKeyStore: CustomerKeyStore {
    let attempts = Mutex(0)
    func key(of customer: String) throws -> CustomerKeyLookup { .missing }
    func store(_ keys: [String: SymmetricKey]) throws {
        attempts.withLock { $0 += 1 }
        throw StoreError.keyUnusable(reason: "the key provider cannot be reached")
    }
    func destroyKey(of customer: String) throws {}
    func destroyedCustomers() throws -> [String] { [] }
}
