import Foundation
import GRDB
import OxpeckerProtocol
import Testing

@testable import OxpeckerStore

@Suite("Store files: create, reopen, migrate, refuse what is not ours")
struct StoreFileTests {
    @Test("a closed and reopened store has every committed write and the same replica id")
    func reopen() async throws {
        let folder = try TemporaryFolder()
        let path = folder.path("s.oxpecker")
        let first = try CustomerStore.create(at: path)
        try await first.write { writer in
            try writer.createCustomer("c-1")
            try writer.set(.advisor, to: "a-417", of: "c-1")
        }
        let before = try exportText(first)
        try first.close()
        let second = try CustomerStore.open(at: path)
        #expect(second.replica == first.replica)
        #expect(try exportText(second) == before)
        #expect(try await second.read { try $0.outboxCount() } == 2)
    }

    @Test("creating over an existing file is refused")
    func createRefusesExisting() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("s.oxpecker")
        _ = try CustomerStore.create(at: path)
        #expect(throws: StoreError.storeExists(path: path)) { try CustomerStore.create(at: path) }
    }

    @Test("opening a missing file says so and creates nothing")
    func missing() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("nope.oxpecker")
        #expect(throws: StoreError.storeNotFound(path: path)) { try CustomerStore.open(at: path) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test("a file that is not SQLite is refused and left as it was")
    func notSQLite() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("notes.txt")
        try Data("just some text, not a database\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect {
            try CustomerStore.open(at: path)
        } throws: { error in
            guard case StoreError.notAnOxpeckerStore(_, let reason) = error else { return false }
            return reason.contains("not an SQLite database")
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "just some text, not a database\n")
    }

    @Test("another application's SQLite database is refused and not migrated")
    func foreignSQLite() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("other.sqlite")
        let queue = try DatabaseQueue(path: path)
        try queue.write { try $0.execute(sql: "CREATE TABLE t (x); INSERT INTO t VALUES (1)") }
        try queue.close()
        #expect {
            try CustomerStore.open(at: path)
        } throws: { error in
            guard case StoreError.notAnOxpeckerStore = error else { return false }
            return true
        }
        let tables = try DatabaseQueue(path: path).read { try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") }
        #expect(tables == ["t"])
    }

    @Test("a store written by a newer schema is refused with both versions, and left untouched")
    func schemaTooNew() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("s.oxpecker")
        try CustomerStore.create(at: path).close()
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')")
            try db.execute(sql: "PRAGMA user_version = 99")
        }
        try queue.close()
        #expect(throws: StoreError.schemaTooNew(found: 99, supported: StoreSchema.currentVersion)) {
            try CustomerStore.open(at: path)
        }
    }

    @Test("a store made by the first schema version opens, upgrades, and its data is searchable")
    func migrationFromFirstVersion() async throws {
        let folder = try TemporaryFolder()
        let path = folder.path("v1.oxpecker")
        // What the first released version wrote: its schema, then rows as it wrote them.
        let queue = try DatabaseQueue(path: path)
        try StoreSchema.migrator.migrate(queue, upTo: StoreSchema.migrationNames[0])
        try await queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO store_info (singleton, replica_id, created_at, last_hlc, next_number)
                    VALUES (1, 'replica-v1', '2026-01-01T00:00:00.000Z', '001767225600000-000001-replica-v1', 3);
                    INSERT INTO customer (id, hlc, replica) VALUES ('c-1', '001767225600000-000000-replica-v1', 'replica-v1');
                    INSERT INTO field_value VALUES ('c-1', 'legal_name', '"Jiří Dvořák"', '001767225600000-000000-replica-v1', 'replica-v1');
                    INSERT INTO note (id, customer_id, author, channel, at, hlc, replica)
                    VALUES ('n-1', 'c-1', 'a-1', 'branch', '2026-01-01T00:00:00.000Z', '001767225600000-000001-replica-v1', 'replica-v1');
                    INSERT INTO note_revision (id, note_id, customer_id, text, author, at, hlc, replica)
                    VALUES ('n-1', 'n-1', 'c-1', 'Wants a mortgage for a cottage', 'a-1', '2026-01-01T00:00:00.000Z', '001767225600000-000001-replica-v1', 'replica-v1');
                    """)
        }
        try queue.close()

        let store = try CustomerStore.open(at: path)
        #expect(store.replica == "replica-v1")
        let (byName, byNote, version) = try await store.read { reader in
            (try reader.search("dvorak"), try reader.search("cottage"), try Int.fetchOne(reader.db, sql: "PRAGMA user_version"))
        }
        #expect(byName.map(\.customer) == ["c-1"])
        #expect(byNote.map(\.note) == ["n-1"])
        #expect(version == StoreSchema.currentVersion)
        // And it goes on numbering where the old version stopped.
        try await store.write { try $0.set(.advisor, to: "a-2", of: "c-1") }
        #expect(try await store.read { try $0.outbox() }.map(\.number) == [3])
    }
}
