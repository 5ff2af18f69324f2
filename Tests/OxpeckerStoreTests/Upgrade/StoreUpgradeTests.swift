import Foundation
import GRDB
import OxpeckerTestSupport
import OxpeckerProtocol
import Testing

@testable import OxpeckerStore

/// A store written by each earlier schema version opens with today's code: its data,
/// search, outbox, sync checkpoint and numbering are as they were, and it works on
/// (writes, pushes kept, encryption in place). The earlier stores are fixtures made by
/// code: today's store projected onto each earlier schema (``SchemaProjection``).
@Suite("Stores of every earlier schema version")
struct StoreUpgradeTests {
    /// Every kind of data a store holds: local writes of every entity, remote changes
    /// merged (a guarded write with its context, an erasure), a checkpoint, a refused push.
    static func writeScenario(in folder: TemporaryFolder) async throws -> String {
        let path = folder.path("today.oxpecker")
        let store = try CustomerStore.create(at: path, options: StoreOptions(clock: ManualClock().wallClock))
        try await store.write { writer in
            try writer.createCustomer("c-1", in: ["branch:HN01"])
            try writer.set(.legalName, to: "Jiří Dvořák", of: "c-1")
            try writer.set(.preferredName, to: "Jirka", of: "c-1")
            try writer.set(.birthDate, to: try LocalDate(parsing: "1971-03-04"), of: "c-1")
            try writer.set(.stage, to: .active, of: "c-1")
            try writer.add("sailing", to: .interests, of: "c-1")
            try writer.add("vip", to: .tags, of: "c-1")
            let note = try writer.addNote(NewNote(text: "Wants a mortgage for a cottage", author: "a-1", channel: .branch), to: "c-1")
            _ = try writer.reviseNote(note, text: "Wants a mortgage for a cottage near Liberec", author: "a-1")
            let slip = try writer.addNote(NewNote(text: "written by mistake", author: "a-1", channel: .phone), to: "c-1")
            _ = try writer.redactNote(slip, by: "a-1", reason: "wrong customer")
            _ = try writer.recordConsent(.granted, for: .marketing, source: "branch form", of: "c-1")
            try writer.recordLifeEvent(
                NewLifeEvent(type: .homePurchase, date: try LocalDate(parsing: "2026-05-01"), source: "advisor", detail: "cottage"), of: "c-1")
            try writer.recordContact(NewContact(channel: .phone, purpose: "service", topic: "mortgage", outcome: .accepted), of: "c-1")
            try writer.createCustomer("c-2", in: ["branch:HN01"])
            try writer.set(.legalName, to: "Eva Malá", of: "c-2")
        }
        let peer: ReplicaID = "peer", server: ReplicaID = "server-hn"
        func stamp(_ n: Int64) throws -> HybridTimestamp { try HybridTimestamp(wallMillis: 1_764_000_000_000 + n, counter: 0, replica: peer) }
        _ = try await store.apply([
            Change(replica: peer, number: 1, hlc: try stamp(1), customer: "c-3", entity: .profile, field: "scopes", record: nil,
                   kind: .addWinsSet, value: ["element": "branch:HN01", "op": "add"]),
            Change(replica: peer, number: 2, hlc: try stamp(2), customer: "c-3", entity: .profile, field: "legal_name", record: nil,
                   kind: .guardedRegister, value: "Antonín Novák"),
            Change(replica: server, number: 1, hlc: try stamp(3), customer: "c-9", entity: .customer, field: nil, record: nil,
                   kind: .erasure, value: .null),
        ])
        try await store.write { writer in
            try writer.saveCheckpoint(SyncCheckpoint(pullCursor: "log.1.2.3", bootstrapped: true, server: "https://sync.example"))
            try writer.recordRejection(of: 1, reason: "out_of_scope", message: "not in your scopes")
        }
        try store.close()
        return path
    }

    static func export(_ store: CustomerStore) async throws -> String {
        try await store.read { reader in var text = ""; try reader.exportJSON { text += $0 }; return text }
    }

    @Test("each earlier version's store opens with today's code: same export, search, outbox, checkpoint; it numbers on and works on",
          arguments: 1..<StoreSchema.currentVersion)
    func opensAndWorksOn(version: Int) async throws {
        let folder = try TemporaryFolder()
        let today = try await Self.writeScenario(in: folder)
        let expected = try CustomerStore.open(at: today)
        let (export, outbox, checkpoint, rejections) = (
            try await Self.export(expected), try await expected.read { try $0.outbox() },
            try await expected.read { try $0.syncCheckpoint() }, try await expected.read { try $0.pushRejections() }
        )
        try expected.close()

        let old = folder.path("v\(version).oxpecker")
        try SchemaProjection.project(today, onto: old) { queue in
            try StoreSchema.migrator.migrate(queue, upTo: StoreSchema.migrationNames[version - 1])
        }
        let oldVersion = try await DatabaseQueue(path: old).read { db in try Int.fetchOne(db, sql: "PRAGMA user_version") }
        #expect(oldVersion == version)

        let store = try CustomerStore.open(at: old)
        #expect(try await store.read { try Int.fetchOne($0.db, sql: "PRAGMA user_version") } == StoreSchema.currentVersion)
        #expect(try await Self.export(store) == export)
        #expect(try await store.read { try $0.outbox() } == outbox)
        #expect(try await store.read { try $0.search("dvorak") }.map(\.customer) == ["c-1"])
        #expect(try await store.read { try $0.search("liberec") }.count == 1)
        #expect(try await store.read { try $0.search("mistake") }.isEmpty, "a redacted text is not searchable after the upgrade")
        if version >= 3 {  // sync state came with v3
            #expect(try await store.read { try $0.syncCheckpoint() } == checkpoint)
            #expect(try await store.read { try $0.pushRejections() }.count == rejections.count)
        }
        // It works on: numbering goes on, a push is kept, a redaction and a purge reach the kept changes.
        let next = (outbox.last?.number ?? 0) + 1
        try await store.write { try $0.set(.segment, to: "premium", of: "c-1") }
        #expect(try await store.read { try $0.outbox() }.last?.number == next)
        try await store.write { try $0.acknowledge([next]) }
        #expect(try await store.read { try $0.pushedChangeCount() } == 1)
        try store.close()

        // And an old store can be encrypted in place.
        let key = StoreKey.generate()
        try CustomerStore.encrypt(at: old, key: key)
        let sealed = try CustomerStore.open(at: old, options: StoreOptions(key: key))
        #expect(try await sealed.read { try $0.profile(of: "c-1") }[.legalName] == "Jiří Dvořák")
        #expect(try await sealed.read { try $0.search("dvor") }.map(\.customer) == ["c-1"])
        try sealed.close()
    }
}
