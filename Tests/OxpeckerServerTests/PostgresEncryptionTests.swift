import Foundation
import OxpeckerProtocol
@_spi(OxpeckerServer) import OxpeckerStore
import Testing

/// The PostgreSQL backend's data encrypted at rest and erasure by crypto-shredding
/// that reaches a `pg_dump`, with real processes: a real server started with
/// `--postgres`, `--key-file` and a key store in a database of its own, real
/// devices through the `oxpecker` CLI, PostgreSQL's own `pg_dump` and `pg_restore`.
@Suite("Encrypted PostgreSQL data and crypto-shredding, end to end", .serialized)
struct PostgresEncryptionTests {
    static let secrets = ServerEncryptionTests.secrets
    static let tools = "/usr/lib/postgresql/15/bin"
    static let enabled = ServerBackend.postgresURL != nil && FileManager.default.isExecutableFile(atPath: tools + "/pg_dump")

    /// `pg_dump` of `url` to `file` in PostgreSQL's custom format, uncompressed (so a grep of it means something).
    static func dump(_ url: String, to file: String) async throws {
        let result = try await ChildProcess(URL(fileURLWithPath: tools + "/pg_dump"), ["-Fc", "-Z0", "-f", file, "-d", url], in: URL(fileURLWithPath: "/tmp"))
            .wait(timeout: .seconds(120))
        try #require(result.succeeded, "pg_dump failed: \(result.stderr)")
    }

    /// The data database made again from `file`, as an operator restores a dump.
    static func restore(_ database: TestDatabase, from file: String) async throws {
        let url = try #require(database.postgresURL)
        let name = try #require(URLComponents(string: url)?.path.dropFirst())
        try await PostgresAdmin.shared.execute("DROP DATABASE \(name) WITH (FORCE)")
        try await PostgresAdmin.shared.execute("CREATE DATABASE \(name)")
        let result = try await ChildProcess(URL(fileURLWithPath: tools + "/pg_restore"), ["-d", url, file], in: URL(fileURLWithPath: "/tmp"))
            .wait(timeout: .seconds(120))
        try #require(result.succeeded, "pg_restore failed: \(result.stderr)")
    }

    /// Whether any file of the database's own folder in the cluster (its tables and indexes,
    /// dead tuples included) holds `word`, case and accents ignored; nil if the test may not read the cluster's files.
    static func databaseFilesHold(_ word: String, _ database: TestDatabase) async throws -> Bool? {
        try await database.execute("CHECKPOINT")
        let folder = try await database.text("SELECT current_setting('data_directory') || '/base/' || oid FROM pg_database WHERE datname = current_database()")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return nil }
        for name in names where ServerEncryptionTests.fileHolds(word, folder + "/" + name) { return true }
        return false
    }

    @Test(
        "encrypted PostgreSQL data keeps no name, birth date or note word in its tables or dumps; an erasure destroys the key; a dump from before it, restored, serves nothing of the customer",
        .enabled(if: enabled, ServerBackend.postgresSkipReason))
    func cryptoShreddingReachesDumps() async throws {
        let server = try await SyncServerProcess.start(.postgres, encrypted: true)
        defer { server.killNow() }
        let encryption = try #require(server.database.encryption)
        let keyStore = try TestDatabase.postgres(at: encryption.keyStore, dataDirectory: server.dataDirectory)
        let mode = try FileManager.default.attributesOfItem(atPath: encryption.keyFile)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600, "the server made its key file, owner-only")

        let folder = try ScratchFolder()
        let (a, b, tokenA, tokenB) = try await ServerEncryptionTests.writeSecrets(through: server, in: folder)
        #expect(try await server.database.count("SELECT count(*)::bigint FROM change_log WHERE customer = 'c-1001' AND body LIKE 'sealed:%'") > 0)
        #expect(try await server.database.count("SELECT count(*)::bigint FROM change_log WHERE body NOT LIKE 'sealed:%' AND kind <> 'erasure'") == 0)
        #expect(try await keyStore.count("SELECT count(*)::bigint FROM customer_key") == 2, "one data key per customer, in the key store")
        for word in Self.secrets {
            if let held = try await Self.databaseFilesHold(word, server.database) {
                #expect(!held, "'\(word)' is readable in the data's table files")
            }
        }

        let dump = folder.path("before-erasure.dump")
        try await Self.dump(try #require(server.database.postgresURL), to: dump)
        #expect(ServerEncryptionTests.fileHolds("c-1001", dump), "the dump holds c-1001's rows (sealed)")
        for word in Self.secrets { #expect(!ServerEncryptionTests.fileHolds(word, dump), "'\(word)' is readable in the dump") }

        let erased = try await server.admin(["customer", "erase", "c-1001", "--by", "dpo-1"])
        #expect(erased.succeeded, "erase failed: \(erased.stderr)")
        try await a.sync(server, token: tokenA)
        try await b.sync(server, token: tokenB)
        #expect(try await keyStore.count("SELECT count(*)::bigint FROM customer_key WHERE customer = 'c-1001'") == 0, "c-1001's key is destroyed")
        #expect(try await keyStore.count("SELECT count(*)::bigint FROM destroyed_key WHERE customer = 'c-1001'") == 1)
        #expect(try await keyStore.count("SELECT count(*)::bigint FROM customer_key WHERE customer = 'c-1002'") == 1)

        // The dump made before the erasure is restored: its copy of c-1001 is sealed under a key
        // that no longer exists. The server erases c-1001 again when it opens the data.
        try await server.stop()
        try await Self.restore(server.database, from: dump)
        #expect(try await server.database.count("SELECT count(*)::bigint FROM change_log WHERE customer = 'c-1001' AND kind <> 'erasure'") > 0)
        let renewed = try await server.admin(["renew-identity"])
        #expect(renewed.succeeded, "renew-identity failed: \(renewed.stderr)")
        try await server.restart()
        let status = try await server.admin(["customer", "erase-status", "c-1001"])
        #expect(status.stdout.contains("c-1001 erased at") && status.stdout.contains("key destroyed by an earlier erasure"), "\(status.stdout) \(status.stderr)")
        #expect(try await server.database.count("SELECT count(*)::bigint FROM change_log WHERE customer = 'c-1001' AND kind <> 'erasure'") == 0)

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
    }

    @Test(
        "PostgreSQL: no key, a wrong key, the data's own database as key store, a missing key store, another data's, a key for plain data with a log: refused with status 9, nothing made",
        .enabled(if: enabled, ServerBackend.postgresSkipReason))
    func keyRefusals() async throws {
        let server = try await SyncServerProcess.start(.postgres, encrypted: true)
        defer { server.killNow() }
        let token = try await server.createToken(name: "laptop-a")
        let folder = try ScratchFolder()
        let (a, _) = try await DeviceCLI.create(in: folder, named: "a.oxpecker")
        try await a.ok(["customer", "add", "c-1001", "--legal-name", "Zdeňka Horáková", "--scope", "branch:HN01"])
        try await a.sync(server, token: token)
        try await server.stop()
        let encryption = try #require(server.database.encryption)
        let dataURL = try #require(server.database.postgresURL)
        let data = ["--postgres", dataURL]

        func run(_ arguments: [String]) async throws -> ProcessResult {
            try await ChildProcess(BuiltProducts.server, arguments, in: folder.url).wait(timeout: .seconds(60))
        }
        let none = try await run(["export"] + data)
        #expect(none.status == 9 && none.stderr.contains("is encrypted: give its key"), "\(none.status) \(none.stderr)")
        let otherKey = folder.path("other.key")
        try StoreKey.generate().writeKeyFile(to: otherKey)
        let wrong = try await run(["export"] + data + ["--key-file", otherKey, "--key-store", encryption.keyStore])
        #expect(wrong.status == 9 && wrong.stderr.contains("is not the key of"), "\(wrong.status) \(wrong.stderr)")
        let own = try await run(["export"] + data + ["--key-file", encryption.keyFile, "--key-store", dataURL])
        #expect(own.status == 9 && own.stderr.contains("the data's own database"), "\(own.status) \(own.stderr)")
        let emptyURL = try await TestDatabase.newPostgresDatabase()
        let empty = try TestDatabase.postgres(at: emptyURL, dataDirectory: folder.path("unused"))
        let missing = try await run(["export"] + data + ["--key-file", encryption.keyFile, "--key-store", emptyURL])
        #expect(missing.status == 9 && missing.stderr.contains("no key store at"), "\(missing.status) \(missing.stderr)")
        #expect(try await empty.count("SELECT count(*)::bigint FROM pg_tables WHERE tablename = 'customer_key'") == 0, "no empty key store is made for existing data")
        let file = try await run(["export"] + data + ["--key-file", encryption.keyFile, "--key-store", folder.path("keys.file")])
        #expect(file.status == 64 && file.stderr.contains("another PostgreSQL database"), "\(file.status) \(file.stderr)")

        // Another data's key store: a second encrypted server's.
        let second = try await SyncServerProcess.start(.postgres, encrypted: true)
        defer { second.killNow() }
        try await second.stop()
        let foreign = try #require(second.database.encryption?.keyStore)
        let other = try await run(["export"] + data + ["--key-file", encryption.keyFile, "--key-store", foreign])
        #expect(other.status == 9, "\(other.status) \(other.stderr)")

        let plain = try await SyncServerProcess.start(.postgres)
        defer { plain.killNow() }
        let plainToken = try await plain.createToken(name: "laptop-p")
        let (p, _) = try await DeviceCLI.create(in: folder, named: "p.oxpecker")
        try await p.ok(["customer", "add", "c-2001", "--legal-name", "Karel Čapek", "--scope", "branch:HN01"])
        try await p.sync(plain, token: plainToken)
        try await plain.stop()
        let keyed = try await run(["export", "--postgres", try #require(plain.database.postgresURL), "--key-file", otherKey, "--key-store", emptyURL])
        #expect(keyed.status == 9 && keyed.stderr.contains("is not encrypted"), "\(keyed.status) \(keyed.stderr)")
        #expect(try await empty.count("SELECT count(*)::bigint FROM pg_tables WHERE tablename = 'customer_key'") == 0)

        let good = try await run(["export"] + data + ["--key-file", encryption.keyFile, "--key-store", encryption.keyStore])
        #expect(good.succeeded && good.stdout.contains("Zdeňka Horáková"), "\(good.stderr)")
        try await PostgresAdmin.shared.execute("DROP DATABASE IF EXISTS \(emptyURL.split(separator: "/").last!.split(separator: "?").first!) WITH (FORCE)")
    }
}
