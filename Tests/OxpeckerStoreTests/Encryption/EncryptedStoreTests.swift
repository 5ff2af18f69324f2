import Foundation
import OxpeckerProtocol
import Testing

@testable import OxpeckerStore

/// Encrypted stores (`StoreOptions.key`): personal data sealed on disk, everything
/// a person reads unchanged, a missing or wrong key refused.
@Suite("Encrypted stores")
struct EncryptedStoreTests {
    /// Personal words the scenario writes, as a case- and accent-insensitive grep looks for them.
    static let secrets = [
        "Nováková", "Jarmila", "1984-02-29", "Slovensko", "Zahradničí", "Průhonice", "plachtění", "vegetarian",
        "Krkonoších", "hypotéku", "Přepsáno", "diagnóza", "narozeniny", "refinancování", "Dvořák", "omylem",
    ]

    /// Writes every kind of personal data, locally and as remote changes; every other change of
    /// the outbox is then acknowledged, as a push would: kept as pushed (`pushed_change`).
    static func writeScenario(_ store: CustomerStore) async throws {
        try await store.write { writer in
            try writer.createCustomer("c-1", in: ["branch:HN01"])
            try writer.set(.legalName, to: "Jana Nováková", of: "c-1")
            try writer.set(.preferredName, to: "Jarmila", of: "c-1")
            try writer.set(.birthDate, to: try LocalDate(parsing: "1984-02-29"), of: "c-1")
            try writer.set(.taxResidence, to: "Slovensko", of: "c-1")
            try writer.set(.lifestyle, to: "Zahradničí v Průhonice", of: "c-1")
            try writer.add("plachtění", to: .interests, of: "c-1")
            try writer.add("vegetarian", to: .tags, of: "c-1")
            let note = try writer.addNote(NewNote(text: "Chce hypotéku na chalupu v Krkonoších", author: "a-1", channel: .branch), to: "c-1")
            _ = try writer.reviseNote(note, text: "Přepsáno: chalupa v Krkonoších, hypotéku", author: "a-1")
            let slip = try writer.addNote(NewNote(text: "diagnóza zapsaná omylem", author: "a-1", channel: .phone), to: "c-1")
            _ = try writer.redactNote(slip, by: "a-1", reason: "zapsáno omylem")
            try writer.recordLifeEvent(
                NewLifeEvent(type: .homePurchase, date: try LocalDate(parsing: "2026-05-01"), source: "advisor", detail: "narozeniny dcery"),
                of: "c-1")
            try writer.recordContact(NewContact(channel: .phone, purpose: "service", topic: "refinancování", outcome: .accepted), of: "c-1")
        }
        let peer: ReplicaID = "peer"
        func stamp(_ n: Int64) throws -> HybridTimestamp { try HybridTimestamp(wallMillis: 1_764_000_000_000 + n, counter: 0, replica: peer) }
        _ = try await store.apply([
            Change(replica: peer, number: 1, hlc: try stamp(1), customer: "c-2", entity: .profile, field: "scopes", record: nil,
                   kind: .addWinsSet, value: ["element": "branch:HN01", "op": "add"]),
            Change(replica: peer, number: 2, hlc: try stamp(2), customer: "c-2", entity: .profile, field: "legal_name", record: nil,
                   kind: .guardedRegister, value: "Antonín Dvořák"),
        ])
        let numbers = try await store.read { try $0.outbox().map(\.number) }
        try await store.write { try $0.acknowledge(numbers.filter { $0 % 2 == 1 }) }
    }

    /// Whether any file of the store (`-wal` and `-shm` included) holds `word`, ignoring case and accents.
    static func filesHold(_ word: String, store path: String) throws -> Bool {
        let folded = { (text: String) in text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil) }
        let needle = folded(word)
        for suffix in ["", "-wal", "-shm"] {
            guard let bytes = FileManager.default.contents(atPath: path + suffix) else { continue }
            if folded(String(decoding: bytes, as: UTF8.self)).contains(needle) { return true }
        }
        return false
    }

    static func export(_ store: CustomerStore) async throws -> String {
        try await store.read { reader in var text = ""; try reader.exportJSON { text += $0 }; return text }
    }

    @Test("no personal word is in an encrypted store's files, -wal included; the same writes to a plain store leave every one")
    func noClearText() async throws {
        let folder = try TemporaryFolder()
        let plain = try CustomerStore.create(at: folder.path("plain.oxpecker"))
        let sealed = try CustomerStore.create(at: folder.path("sealed.oxpecker"), options: StoreOptions(key: .generate()))
        try await Self.writeScenario(plain)
        try await Self.writeScenario(sealed)
        #expect(sealed.isEncrypted)
        for word in Self.secrets where word != "diagnóza" {  // a redacted text leaves the plain store too
            #expect(try Self.filesHold(word, store: plain.path), "the plain store should hold '\(word)' (the check would find it)")
        }
        for word in Self.secrets {
            #expect(!(try Self.filesHold(word, store: sealed.path)), "'\(word)' is readable in the encrypted store's files")
        }
        try sealed.close()
        try plain.close()
    }

    @Test("everything written reads back the same from an encrypted store: profile, sets, notes, records, export, after reopening")
    func readsBack() async throws {
        let folder = try TemporaryFolder()
        let key = StoreKey.generate()
        let path = folder.path("sealed.oxpecker")
        var store = try CustomerStore.create(at: path, options: StoreOptions(key: key))
        try await Self.writeScenario(store)
        try store.close()
        store = try CustomerStore.open(at: path, options: StoreOptions(key: key))
        let profile = try await store.read { try $0.profile(of: "c-1") }
        #expect(profile[.legalName] == "Jana Nováková")
        #expect(profile[.preferredName] == "Jarmila")
        #expect(profile[.birthDate] == (try LocalDate(parsing: "1984-02-29")))
        #expect(profile[.lifestyle] == "Zahradničí v Průhonice")
        #expect(profile.sets["interests"] == ["plachtění"] && profile.sets["tags"] == ["vegetarian"])
        let notes = try await store.read { try $0.notes(of: "c-1") }
        #expect(notes.compactMap(\.text) == ["Přepsáno: chalupa v Krkonoších, hypotéku"])
        #expect(notes.compactMap(\.redaction?.reason) == ["zapsáno omylem"])
        #expect(try await store.read { try $0.lifeEvents(of: "c-1") }.map(\.detail) == ["narozeniny dcery"])
        #expect(try await store.read { try $0.contacts(of: "c-1") }.map(\.topic) == ["refinancování"])
        #expect(try await store.read { try $0.profile(of: "c-2") }[.legalName] == "Antonín Dvořák")
        #expect(try await store.read { try $0.pushedChangeCount() } > 0)
        try await store.write { try $0.requeuePushedChanges() }  // the acknowledged half opens too
        let outbox = try await store.read { try $0.outbox() }
        #expect(outbox.map(\.number) == Array(1...Int64(outbox.count)))
        #expect(outbox.contains { $0.value == "Jana Nováková" } && outbox.contains { $0.value == "Zahradničí v Průhonice" })
        let export = try await Self.export(store)
        for word in ["Jana Nováková", "plachtění", "Krkonoších", "narozeniny dcery", "refinancování", "Antonín Dvořák"] {
            #expect(export.contains(word))
        }
        #expect(!export.contains("diagnóza"))
        // The element is looked up by value: removing it finds it.
        let removed = try await store.write { try $0.remove("plachtění", from: .interests, of: "c-1") }
        #expect(removed)
        #expect(try await store.read { try $0.profile(of: "c-1") }.sets["interests"] == nil)
        try store.close()
    }

    @Test("search in an encrypted store: names and note words by prefix, accents and case ignored, snippets from the opened text")
    func search() async throws {
        let folder = try TemporaryFolder()
        let store = try CustomerStore.create(at: folder.path("sealed.oxpecker"), options: StoreOptions(key: .generate()))
        try await Self.writeScenario(store)
        let byName = try await store.read { try $0.search("novak") }
        #expect(byName.map(\.customer) == ["c-1"] && byName.first?.source == .name)
        #expect(byName.first?.snippet == "Jana [Nováková] Jarmila")
        let byNote = try await store.read { try $0.search("KRKONO hypo") }
        #expect(byNote.map(\.source) == [.note])
        #expect(byNote.first?.snippet == "[Přepsáno:] chalupa v [Krkonoších,] [hypotéku]" || byNote.first?.snippet.contains("[Krkonoších,]") == true)
        #expect(try await store.read { try $0.search("dvorak") }.map(\.customer) == ["c-2"])
        #expect(try await store.read { try $0.search("diagnoza") }.isEmpty, "a redacted note's words are not searchable")
        #expect(try await store.read { try $0.search("novakx") }.isEmpty)
        #expect(try await store.read { try $0.search("chalupa krkonose") }.isEmpty, "every word must match")
        try store.close()
    }

    @Test("a missing, wrong or needless key is refused with its own error and the file is left byte for byte as it was")
    func keyRefusals() async throws {
        let folder = try TemporaryFolder()
        let key = StoreKey.generate()
        let path = folder.path("sealed.oxpecker")
        let store = try CustomerStore.create(at: path, options: StoreOptions(key: key))
        try await Self.writeScenario(store)
        try await store.checkpoint()
        try store.close()
        // The shared-memory index (-shm) is rebuilt by any reader; the data is in the file and its log.
        let files = { ["", "-wal"].map { FileManager.default.contents(atPath: path + $0) } }
        let before = files()
        #expect(throws: StoreError.keyRequired(path: path)) { try CustomerStore.open(at: path) }
        #expect(throws: StoreError.wrongKey(path: path)) { try CustomerStore.open(at: path, options: StoreOptions(key: .generate())) }
        #expect(throws: StoreError.wrongKey(path: path)) {
            try CustomerStore.open(at: path, options: StoreOptions(key: try .passphrase("a passphrase, not the key")))
        }
        #expect(files() == before)
        let plainPath = folder.path("plain.oxpecker")
        try CustomerStore.create(at: plainPath).close()
        #expect(throws: StoreError.notEncrypted(path: plainPath)) { try CustomerStore.open(at: plainPath, options: StoreOptions(key: key)) }
    }

    @Test("a passphrase store opens with its passphrase only; a short passphrase is refused")
    func passphrase() async throws {
        let folder = try TemporaryFolder()
        let path = folder.path("sealed.oxpecker")
        let store = try CustomerStore.create(at: path, options: StoreOptions(key: try .passphrase("correct horse battery staple")))
        try await store.write { try $0.createCustomer("c-1"); try $0.set(.legalName, to: "Jana Nováková", of: "c-1") }
        try store.close()
        #expect(throws: StoreError.wrongKey(path: path)) {
            try CustomerStore.open(at: path, options: StoreOptions(key: try .passphrase("correct horse battery stapler")))
        }
        let again = try CustomerStore.open(at: path, options: StoreOptions(key: try .passphrase("correct horse battery staple")))
        #expect(try await again.read { try $0.profile(of: "c-1") }[.legalName] == "Jana Nováková")
        try again.close()
        #expect(throws: StoreError.self) { try StoreKey.passphrase("short") }
        #expect(!(try Self.filesHold("Nováková", store: path)))
    }

    @Test("a key file: written with mode 0600 and read back; one others may read is refused; a malformed one is refused")
    func keyFiles() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("store.key")
        let key = StoreKey.generate()
        try key.writeKeyFile(to: path)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        _ = try StoreKey.keyFile(path)
        #expect(throws: StoreError.self) { try key.writeKeyFile(to: path) }  // never over an existing file
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect {
            try StoreKey.keyFile(path)
        } throws: { error in
            guard case StoreError.keyUnusable(let reason) = error else { return false }
            return reason.contains("chmod 600")
        }
        let bad = folder.path("bad.key")
        #expect(FileManager.default.createFile(atPath: bad, contents: Data("not a key".utf8), attributes: [.posixPermissions: 0o600]))
        #expect(throws: StoreError.self) { try StoreKey.keyFile(bad) }
    }

    @Test("a customer created in a transaction that rolls back, then created again: its data opens after reopening (no stale key)")
    func rolledBackKey() async throws {
        let folder = try TemporaryFolder()
        let key = StoreKey.generate()
        let path = folder.path("sealed.oxpecker")
        let store = try CustomerStore.create(at: path, options: StoreOptions(key: key))
        struct Abort: Error {}
        await #expect(throws: Abort.self) {
            try await store.write { writer in
                try writer.createCustomer("c-1")
                try writer.set(.legalName, to: "First Try", of: "c-1")
                throw Abort()
            }
        }
        try await store.write { try $0.createCustomer("c-1"); try $0.set(.legalName, to: "Jana Nováková", of: "c-1") }
        try store.close()
        let again = try CustomerStore.open(at: path, options: StoreOptions(key: key))
        #expect(try await again.read { try $0.profile(of: "c-1") }[.legalName] == "Jana Nováková")
        try again.close()
    }

    @Test("an erasure deletes the customer's data key; a purge (left the scopes) keeps it, so the customer's data opens when it comes back")
    func erasureShredsKey() async throws {
        let folder = try TemporaryFolder()
        let key = StoreKey.generate()
        let path = folder.path("sealed.oxpecker")
        let store = try CustomerStore.create(at: path, options: StoreOptions(key: key))
        try await Self.writeScenario(store)
        let keys = { try await store.read { try String.fetchAll($0.db, sql: "SELECT customer_id FROM customer_key ORDER BY customer_id") } }
        #expect(try await keys() == ["c-1", "c-2"])
        let server: ReplicaID = "server"
        let erase = Change(
            replica: server, number: 1, hlc: try HybridTimestamp(wallMillis: 9_000_000_000_000, counter: 0, replica: server), customer: "c-1",
            entity: .customer, field: nil, record: nil, kind: .erasure, value: .null)
        #expect(try await store.apply([erase]) == [.applied])
        #expect(try await keys() == ["c-2"])
        try await store.write { _ = try $0.purge("c-2") }
        #expect(try await keys() == ["c-2"])
        let peer: ReplicaID = "peer"
        _ = try await store.apply([
            Change(replica: peer, number: 3, hlc: try HybridTimestamp(wallMillis: 1_764_000_000_100, counter: 0, replica: peer),
                   customer: "c-2", entity: .profile, field: "legal_name", record: nil, kind: .guardedRegister, value: "Antonín Dvořák"),
        ])
        try store.close()
        let again = try CustomerStore.open(at: path, options: StoreOptions(key: key))
        #expect(try await again.read { try $0.profile(of: "c-2") }[.legalName] == "Antonín Dvořák")
        try again.close()
    }

    @Test("every field of the catalog is classified as personal or clear, once")
    func classification() {
        let names = Set(FieldCatalog.all.map(\.name))
        #expect(PersonalData.fields.union(PersonalData.clearFields) == names)
        #expect(PersonalData.fields.isDisjoint(with: PersonalData.clearFields))
    }

    @Test("a plain store encrypted in place: everything reads back, search works, no personal word is left in its files")
    func encryptInPlace() async throws {
        let folder = try TemporaryFolder()
        let path = folder.path("store.oxpecker")
        let plain = try CustomerStore.create(at: path)
        try await Self.writeScenario(plain)
        let before = try await Self.export(plain)
        try plain.close()
        let key = StoreKey.generate()
        try CustomerStore.encrypt(at: path, key: key)
        #expect(throws: StoreError.keyRequired(path: path)) { try CustomerStore.open(at: path) }
        #expect(throws: StoreError.self) { try CustomerStore.encrypt(at: path, key: key) }  // encrypted already
        let sealed = try CustomerStore.open(at: path, options: StoreOptions(key: key))
        #expect(try await Self.export(sealed) == before)
        #expect(try await sealed.read { try $0.search("krkono") }.count == 1)
        try await sealed.write { try $0.createCustomer("c-3"); try $0.set(.legalName, to: "Nová Zákaznice", of: "c-3") }
        #expect(try await sealed.read { try $0.search("zakaz") }.map(\.customer) == ["c-3"])
        try sealed.close()
        for word in Self.secrets + ["Zákaznice"] {
            #expect(!(try Self.filesHold(word, store: path)), "'\(word)' is readable after encrypting the store")
        }
    }

    @Test("rekey: the new key opens the store with every value, the old one no longer does, a wrong old key changes nothing")
    func rekey() async throws {
        let folder = try TemporaryFolder()
        let path = folder.path("sealed.oxpecker")
        let old = StoreKey.generate()
        let store = try CustomerStore.create(at: path, options: StoreOptions(key: old))
        try await Self.writeScenario(store)
        let before = try await Self.export(store)
        try store.close()
        #expect(throws: StoreError.wrongKey(path: path)) { try CustomerStore.rekey(at: path, from: .generate(), to: .generate()) }
        let new = try StoreKey.passphrase("a new passphrase for the store")
        try CustomerStore.rekey(at: path, from: old, to: new)
        #expect(throws: StoreError.wrongKey(path: path)) { try CustomerStore.open(at: path, options: StoreOptions(key: old)) }
        let again = try CustomerStore.open(at: path, options: StoreOptions(key: new))
        #expect(try await Self.export(again) == before)
        #expect(try await again.read { try $0.search("novak") }.count == 1)
        try again.close()
    }
}
