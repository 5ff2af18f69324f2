import Foundation
import GRDB
import OxpeckerProtocol
@_spi(OxpeckerServer) import OxpeckerStore
import Testing

/// The embedded server's data encrypted at rest, and erasure by crypto-shredding
/// that reaches a backup, with real processes: a real server started with
/// `--key-file` and `--key-store`, real devices through the `oxpecker` CLI.
@Suite("Encrypted server data and crypto-shredding, end to end", .serialized)
struct ServerEncryptionTests {
    /// Words of personal data the scenario writes: none may be readable in the server's data.
    static let secrets = ["Zdeňka Horáková", "Horakova", "1984-03-07", "refinancování", "Vinohradech", "Bedřich Smetana", "penzijní spoření", "diagnóza"]

    /// Whether any file in `folder` (the database, its `-wal` and `-shm`, anything else) holds `word`, case and accents ignored.
    static func folderHolds(_ word: String, _ folder: String) throws -> Bool {
        let folded = { (text: String) in text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil) }
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
            guard let bytes = FileManager.default.contents(atPath: folder + "/" + name) else { continue }
            if folded(String(decoding: bytes, as: UTF8.self)).contains(folded(word)) { return true }
        }
        return false
    }

    static func fileHolds(_ word: String, _ path: String) -> Bool {
        let folded = { (text: String) in text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil) }
        guard let bytes = FileManager.default.contents(atPath: path) else { return false }
        return folded(String(decoding: bytes, as: UTF8.self)).contains(folded(word))
    }

    /// Laptops A and B write the secrets through `server` (two customers, their notes, and a
    /// note of c-1002 that A redacts: the server opens, blanks and seals again what it logged)
    /// and sync; the server serves the clear state, the redaction reached B, A and B agree.
    static func writeSecrets(
        through server: SyncServerProcess, in folder: ScratchFolder
    ) async throws -> (a: DeviceCLI, b: DeviceCLI, tokenA: String, tokenB: String) {
        let tokenA = try await server.createToken(name: "laptop-a")
        let tokenB = try await server.createToken(name: "laptop-b")
        let (a, _) = try await DeviceCLI.create(in: folder, named: "a.oxpecker")
        let (b, _) = try await DeviceCLI.create(in: folder, named: "b.oxpecker")
        try await a.ok(["customer", "add", "c-1001", "--legal-name", "Zdeňka Horáková", "--stage", "prospect", "--scope", "branch:HN01"])
        try await a.ok(["customer", "set", "c-1001", "birth_date", "1984-03-07"])
        try await a.ok(["note", "add", "c-1001", "--text", "refinancování hypotéky na Vinohradech", "--author", "a-417", "--channel", "branch"])
        try await a.ok(["customer", "add", "c-1002", "--legal-name", "Bedřich Smetana", "--scope", "branch:HN01"])
        try await a.ok(["note", "add", "c-1002", "--text", "penzijní spoření pro vnučku", "--author", "a-417", "--channel", "phone"])
        try await a.sync(server, token: tokenA)
        try await b.sync(server, token: tokenB)
        let slip = try await a.ok(["note", "add", "c-1002", "--text", "diagnóza zapsaná omylem", "--author", "a-417", "--channel", "phone"])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try await a.sync(server, token: tokenA)
        try await b.sync(server, token: tokenB)
        try await a.ok(["note", "redact", slip, "--by", "dpo", "--reason", "mistake"])
        try await a.sync(server, token: tokenA)
        try await b.sync(server, token: tokenB)

        let served = String(decoding: try await server.exportState(), as: UTF8.self)
        #expect(served.contains("Zdeňka Horáková") && served.contains("Vinohradech") && served.contains("Bedřich Smetana"))
        let exportB = String(decoding: try await b.exportBytes(), as: UTF8.self)
        #expect(!served.contains("diagnóza") && !exportB.contains("diagnóza") && exportB.contains("mistake"), "the redaction reached B and the server")
        #expect(try await a.exportBytes() == (try await b.exportBytes()))
        return (a, b, tokenA, tokenB)
    }

    @Test("an encrypted server keeps no name, birth date or note word in its files or backups; an erasure destroys the key; a backup from before it, restored, serves nothing of the customer")
    func cryptoShreddingReachesBackups() async throws {
        let server = try await SyncServerProcess.start(.sqlite, encrypted: true)
        defer { server.killNow() }
        let encryption = try #require(server.database.encryption)
        let mode = try FileManager.default.attributesOfItem(atPath: encryption.keyFile)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600, "the server made its key file, owner-only")
        #expect(FileManager.default.fileExists(atPath: encryption.keyStore), "and its key store, beside the data folder")

        let folder = try ScratchFolder()
        let (a, b, tokenA, tokenB) = try await ServerEncryptionTests.writeSecrets(through: server, in: folder)
        for word in Self.secrets {
            #expect(!(try Self.folderHolds(word, server.dataDirectory)), "'\(word)' is readable in the server's data folder")
            #expect(!Self.fileHolds(word, encryption.keyStore), "'\(word)' is in the key store")
        }

        let backup = folder.path("backup.oxpecker")
        let made = try await server.admin(["backup", "--to", backup, "--quiet"])
        #expect(made.succeeded, "backup failed: \(made.stderr)")
        for word in Self.secrets { #expect(!Self.fileHolds(word, backup), "'\(word)' is readable in the backup") }
        let sealedInBackup = try Self.sealedLogBodies(of: "c-1001", in: backup)
        #expect(sealedInBackup.sealed > 0 && sealedInBackup.clear == 0, "the backup holds c-1001's changes, sealed: \(sealedInBackup)")

        // The erasure destroys c-1001's data key in the key store; A and B purge the customer.
        let erased = try await server.admin(["customer", "erase", "c-1001", "--by", "dpo-1"])
        #expect(erased.succeeded, "erase failed: \(erased.stderr)")
        try await a.sync(server, token: tokenA)
        try await b.sync(server, token: tokenB)
        let keys = try KeyStoreFile.open(at: encryption.keyStore, key: try StoreKey.keyFile(encryption.keyFile))
        guard case .destroyed = try keys.key(of: "c-1001") else {
            Issue.record("c-1001's data key is still in the key store")
            return
        }
        guard case .found = try keys.key(of: "c-1002") else {
            Issue.record("c-1002's data key went with c-1001's")
            return
        }
        #expect(!Self.fileHolds("c-1001", encryption.keyStore + "-wal"), "the destroyed key left the key store's write-ahead log")

        // The backup made before the erasure is restored: its copy of c-1001 is sealed under a key
        // that no longer exists. The server erases c-1001 again when it opens the data.
        try await server.stop()
        let restored = try await server.admin(["restore", "--from", backup])
        #expect(restored.succeeded, "restore failed: \(restored.stderr)")
        try await server.restart()
        let status = try await server.admin(["customer", "erase-status", "c-1001"])
        #expect(status.stdout.contains("c-1001 erased at") && status.stdout.contains("key destroyed by an earlier erasure"), "\(status.stdout) \(status.stderr)")
        #expect(try Self.sealedLogBodies(of: "c-1001", in: server.dataDirectory + "/server.oxpecker").sealed == 0, "the restored copy is purged")

        // Nothing of c-1001 comes back: not to A and B (who bootstrap again after the restore), not to a new device C.
        try await a.sync(server, token: tokenA)
        try await b.sync(server, token: tokenB)
        try await a.sync(server, token: tokenA)
        let (c, _) = try await DeviceCLI.create(in: folder, named: "c.oxpecker")
        try await c.sync(server, token: tokenB)
        let confirmed = try await server.admin(["customer", "erase-status", "c-1001"])
        #expect(confirmed.succeeded, "A and B confirmed the erasure made again: \(confirmed.stdout) \(confirmed.stderr)")
        let exportA = try await a.exportBytes()
        #expect(exportA == (try await b.exportBytes()))
        #expect(exportA == (try await c.exportBytes()))
        let text = String(decoding: exportA, as: UTF8.self)
        #expect(text.contains("Bedřich Smetana") && text.contains("penzijní spoření"), "c-1002 is served as before")
        #expect(!text.contains("Horáková") && !text.contains("Vinohradech") && !text.contains("1984-03-07"), "c-1001 came back: \(text)")
        let servedAfter = String(decoding: try await server.exportState(), as: UTF8.self)
        #expect(!servedAfter.contains("Horáková") && servedAfter.contains("Bedřich Smetana"))
        for word in Self.secrets {
            #expect(!(try Self.folderHolds(word, server.dataDirectory)), "'\(word)' is readable in the server's data folder after the restore")
        }
    }

    @Test("wrong key, no key, a missing key store, another data's, one in the data folder, a key for plain data: refused with status 9, nothing changed")
    func keyRefusals() async throws {
        let server = try await SyncServerProcess.start(.sqlite, encrypted: true)
        defer { server.killNow() }
        let token = try await server.createToken(name: "laptop-a")
        let folder = try ScratchFolder()
        let (a, _) = try await DeviceCLI.create(in: folder, named: "a.oxpecker")
        try await a.ok(["customer", "add", "c-1001", "--legal-name", "Zdeňka Horáková", "--scope", "branch:HN01"])
        try await a.sync(server, token: token)
        try await server.stop()
        let encryption = try #require(server.database.encryption)
        let data = ["--data-dir", server.dataDirectory]
        let before = try Data(contentsOf: URL(fileURLWithPath: server.dataDirectory + "/server.oxpecker"))

        func run(_ arguments: [String]) async throws -> ProcessResult {
            try await ChildProcess(BuiltProducts.server, arguments, in: folder.url).wait(timeout: .seconds(60))
        }
        let otherKey = folder.path("other.key")
        try StoreKey.generate().writeKeyFile(to: otherKey)
        let wrong = try await run(["export"] + data + ["--key-file", otherKey, "--key-store", encryption.keyStore])
        #expect(wrong.status == 9 && wrong.stderr.contains("is not the key of"), "\(wrong.status) \(wrong.stderr)")
        let none = try await run(["export"] + data)
        #expect(none.status == 9 && none.stderr.contains("is encrypted: give its key"), "\(none.status) \(none.stderr)")
        let missing = try await run(["export"] + data + ["--key-file", encryption.keyFile, "--key-store", folder.path("nowhere.keys")])
        #expect(missing.status == 9 && missing.stderr.contains("no key store at"), "\(missing.status) \(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.path("nowhere.keys")), "no empty key store is made for existing data")
        let inside = try await run(
            ["export", "--data-dir", folder.path("new-data"), "--key-file", otherKey, "--key-store", folder.path("new-data/keys")])
        #expect(inside.status == 9 && inside.stderr.contains("inside the data folder"), "\(inside.status) \(inside.stderr)")
        let foreign = folder.path("foreign.keys")
        _ = try KeyStoreFile.create(at: foreign, key: try StoreKey.keyFile(encryption.keyFile))
        let other = try await run(["export"] + data + ["--key-file", encryption.keyFile, "--key-store", foreign])
        #expect(other.status == 9 && other.stderr.contains("is not the one of the data"), "\(other.status) \(other.stderr)")
        let half = try await run(["export"] + data + ["--key-file", encryption.keyFile])
        #expect(half.status == 64 && half.stderr.contains("--key-file and --key-store go together"), "\(half.status) \(half.stderr)")

        let plain = try await SyncServerProcess.start(.sqlite)
        defer { plain.killNow() }
        try await plain.stop()
        let keyed = try await run(
            ["export", "--data-dir", plain.dataDirectory, "--key-file", otherKey, "--key-store", folder.path("plain.keys")])
        #expect(keyed.status == 9 && keyed.stderr.contains("is not encrypted"), "\(keyed.status) \(keyed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.path("plain.keys")))

        #expect(try Data(contentsOf: URL(fileURLWithPath: server.dataDirectory + "/server.oxpecker")) == before, "the data did not change")
        let good = try await run(["export"] + data + ["--key-file", encryption.keyFile, "--key-store", encryption.keyStore])
        #expect(good.succeeded && good.stdout.contains("Zdeňka Horáková"), "\(good.stderr)")
    }

    /// How many logged changes of `customer` in the server database at `path` are sealed (BLOB) and clear (TEXT).
    static func sealedLogBodies(of customer: String, in path: String) throws -> (sealed: Int, clear: Int) {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? queue.close() }
        return try queue.read { db in
            let sealed = try Int.fetchOne(
                db, sql: "SELECT count(*) FROM change_log WHERE customer = ? AND typeof(body) = 'blob'", arguments: [customer]) ?? 0
            let clear = try Int.fetchOne(
                db, sql: "SELECT count(*) FROM change_log WHERE customer = ? AND typeof(body) = 'text' AND kind <> 'erasure'",
                arguments: [customer]) ?? 0
            return (sealed, clear)
        }
    }
}
