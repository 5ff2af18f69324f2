import Foundation
import GRDB
import OxpeckerProtocol
import OxpeckerSync
import Testing

/// `oxpecker-server backup` and `restore` with real processes: a real server, real
/// devices through the `oxpecker` CLI, a backup taken while a device pushes, more work
/// after it, a restore with the server stopped. Serialized: each test starts its own
/// processes, and the machine has two cores.
@Suite("Backup, restore and renew-identity, end to end", .serialized)
struct BackupRestoreTests {
    @Test("backup while a device pushes; both devices work on; restore: they push again what the backup lacks, old cursors expire, all converge")
    func restoreConverges() async throws {
        let server = try await SyncServerProcess.start(.sqlite)
        defer { server.killNow() }
        let tokenA = try await server.createToken(name: "laptop-a")
        let tokenB = try await server.createToken(name: "laptop-b")
        let folder = try ScratchFolder()
        let (a, _) = try await DeviceCLI.create(in: folder, named: "a.oxpecker")
        let (b, _) = try await DeviceCLI.create(in: folder, named: "b.oxpecker")
        try await a.ok(["customer", "add", "c-1001", "--legal-name", "Jana Nováková", "--stage", "prospect", "--scope", "branch:HN01"])
        try await a.ok(["customer", "add", "c-1002", "--legal-name", "Petr Svoboda", "--scope", "branch:HN01"])
        try await a.ok(["note", "add", "c-1001", "--text", "before the backup", "--author", "a-417", "--channel", "branch"])
        try await a.sync(server, token: tokenA)
        try await b.sync(server, token: tokenB)
        // A cursor handed out before the backup, of a subscription the backup holds.
        let cursorBeforeBackup = try await Self.pullCursor(server, token: tokenB)

        // The backup runs while A pushes note after note: the copy is one commit's database.
        let backup = folder.path("backup.oxpecker")
        async let pushing: Void = {
            for step in 1...4 {
                try await a.ok(["note", "add", "c-1002", "--text", "during the backup \(step)", "--author", "a-417", "--channel", "phone"])
                try await a.sync(server, token: tokenA)
            }
        }()
        try await Task.sleep(for: .milliseconds(300))
        let made = try await server.admin(["backup", "--to", backup, "--quiet"])
        try await pushing
        #expect(made.succeeded, "backup failed: \(made.stderr)")
        #expect(made.stdout.contains("backed up") && made.stdout.contains("log position"), "\(made.stdout)")
        let beside = try FileManager.default.contentsOfDirectory(atPath: folder.path("")).filter { $0.hasPrefix("backup.oxpecker") || $0.hasPrefix(".backup") }
        #expect(beside == ["backup.oxpecker"], "the backup is one file, no WAL or partial beside it: \(beside)")
        try Self.expectConsistent(backup)

        // After the backup: A creates a customer and writes notes, B writes; both sync. A's last note waits in its outbox.
        try await a.ok(["customer", "add", "c-2001", "--legal-name", "Made After The Backup", "--scope", "branch:HN01"])
        try await a.ok(["note", "add", "c-2001", "--text", "A after the backup, pushed", "--author", "a-417", "--channel", "branch"])
        try await a.ok(["note", "add", "c-1001", "--text", "A after the backup, on an old customer", "--author", "a-417", "--channel", "branch"])
        try await a.sync(server, token: tokenA)
        try await b.ok(["note", "add", "c-1002", "--text", "B after the backup, pushed", "--author", "a-502", "--channel", "phone"])
        try await b.ok(["customer", "set", "c-1001", "stage", "active"])
        try await b.sync(server, token: tokenB)
        try await a.sync(server, token: tokenA)
        try await a.ok(["note", "add", "c-2001", "--text", "A after the backup, never pushed before the restore", "--author", "a-417", "--channel", "branch"])
        // Cursors handed out before the restore: a pull cursor (past the backup's end) and a bootstrap page token.
        let oldCursor = try await Self.pullCursor(server, token: tokenB)
        let oldPage = try await Self.bootstrapPage(server, token: tokenB)

        try await server.stop()
        let restored = try await server.admin(["restore", "--from", backup])
        #expect(restored.succeeded, "restore failed: \(restored.stderr)")
        #expect(restored.stdout.contains("new log identity"), "\(restored.stdout)")
        let kept = try FileManager.default.contentsOfDirectory(atPath: server.dataDirectory).filter { $0.contains("before-restore") }
        #expect(kept.count == 1, "the replaced database is kept aside: \(kept)")
        try await server.restart()

        // Every cursor issued before the restore is answered cursor_expired.
        #expect(try await Self.pull(server, token: tokenB, after: cursorBeforeBackup).contains(#""code":"cursor_expired""#))
        #expect(try await Self.pull(server, token: tokenB, after: oldCursor).contains(#""code":"cursor_expired""#))
        #expect(try await Self.bootstrap(server, token: tokenB, page: oldPage).contains(#""code":"cursor_expired""#))

        // A and B learn at their hello that the log changed, push again what they had pushed, bootstrap again.
        let firstA = try await a.sync(server, token: tokenA)
        #expect(firstA["server_log_changed"] == .bool(true))
        #expect(firstA.integer("resent") ?? 0 > 0)
        let firstB = try await b.sync(server, token: tokenB)
        #expect(firstB["server_log_changed"] == .bool(true))
        #expect(firstB.integer("bootstrapped_customers") == 3, "B's cursor predates the restore: it bootstraps again")
        try await a.sync(server, token: tokenA)
        let lastB = try await b.sync(server, token: tokenB)
        #expect(lastB["server_log_changed"] == .bool(false))

        let exportA = try await a.exportBytes()
        #expect(exportA == (try await b.exportBytes()))
        #expect(exportA == (try await server.exportState()))
        let text = String(decoding: exportA, as: UTF8.self)
        for note in [
            "before the backup", "during the backup 4", "A after the backup, pushed", "A after the backup, on an old customer",
            "B after the backup, pushed", "A after the backup, never pushed before the restore", "Made After The Backup",
        ] {
            #expect(text.contains(note), "lost after the restore: \(note)")
        }
        #expect(text.contains(#""active""#), "B's stage change after the backup is back")
    }

    @Test("backup refuses an existing file, a missing folder, a data directory with no database, and PostgreSQL; nothing is written")
    func backupRefusals() async throws {
        let server = try await SyncServerProcess.start(.sqlite)
        defer { server.killNow() }
        let folder = try ScratchFolder()
        let existing = folder.path("taken.oxpecker")
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: existing))
        let taken = try await server.admin(["backup", "--to", existing])
        #expect(taken.status == 4)
        #expect(taken.stderr.contains("exists; a backup never overwrites"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: existing)) == Data("keep me".utf8))
        let missing = try await server.admin(["backup", "--to", folder.path("no/such/folder/b.oxpecker")])
        #expect(missing.status == 4)
        #expect(missing.stderr.contains("does not exist; create it first"))

        let empty = folder.path("empty-data")
        let noDatabase = try await ChildProcess(BuiltProducts.server, ["backup", "--to", folder.path("b.oxpecker"), "--data-dir", empty], in: folder.url)
            .wait(timeout: .seconds(60))
        #expect(noDatabase.status == 3)
        #expect(noDatabase.stderr.contains("holds no server database"))
        #expect(!FileManager.default.fileExists(atPath: empty), "the data directory is not created")
        let postgres = try await ChildProcess(
            BuiltProducts.server, ["backup", "--to", folder.path("b.oxpecker"), "--postgres", "postgres://oxp@127.0.0.1:1/x"], in: folder.url
        ).wait(timeout: .seconds(60))
        #expect(postgres.status == 4)
        #expect(postgres.stderr.contains("pg_dump -Fc"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path("")) == ["taken.oxpecker"])
    }

    @Test("restore refuses while the server runs, a file that is not a server database, and a missing one; the database is untouched")
    func restoreRefusals() async throws {
        let server = try await SyncServerProcess.start(.sqlite)
        defer { server.killNow() }
        let token = try await server.createToken(name: "laptop-a")
        let folder = try ScratchFolder()
        let (a, _) = try await DeviceCLI.create(in: folder, named: "a.oxpecker")
        try await a.ok(["customer", "add", "c-1001", "--legal-name", "Jana", "--scope", "branch:HN01"])
        try await a.sync(server, token: token)
        let backup = folder.path("backup.oxpecker")
        #expect(try await server.admin(["backup", "--to", backup]).succeeded)
        let before = try await server.exportState()

        let running = try await server.admin(["restore", "--from", backup])
        #expect(running.status == 5)
        #expect(running.stderr.contains("in use by another process (is the server running?)"))
        let renewing = try await server.admin(["renew-identity"])
        #expect(renewing.status == 5)
        try await server.stop()

        let text = folder.path("notes.txt")
        try Data("not a database".utf8).write(to: URL(fileURLWithPath: text))
        for (file, status, message) in [
            (folder.path("a.oxpecker"), Int32(4), "no change log (a device's store"),
            (text, 4, "is not an SQLite database"),
            (folder.path("nothing-here.oxpecker"), 3, "no backup at"),
        ] {
            let refused = try await server.admin(["restore", "--from", file])
            #expect(refused.status == status, "\(file): \(refused.stderr)")
            #expect(refused.stderr.contains(message), "\(refused.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: server.dataDirectory).filter { !$0.hasPrefix("server.oxpecker") }.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: server.dataDirectory).filter { $0.contains("before-restore") }.isEmpty)
        try await server.restart()
        #expect(try await server.exportState() == before)
        #expect(try await a.sync(server, token: token)["server_log_changed"] == .bool(false))
    }

    @Test("renew-identity (after pg_restore, or a file put back by hand): old cursors expire, devices push again and converge", arguments: ServerBackend.all)
    func renewIdentity(backend: ServerBackend) async throws {
        let server = try await SyncServerProcess.start(backend)
        defer { server.killNow() }
        let tokenA = try await server.createToken(name: "laptop-a")
        let tokenB = try await server.createToken(name: "laptop-b")
        let folder = try ScratchFolder()
        let (a, _) = try await DeviceCLI.create(in: folder, named: "a.oxpecker")
        let (b, _) = try await DeviceCLI.create(in: folder, named: "b.oxpecker")
        try await a.ok(["customer", "add", "c-1001", "--legal-name", "Jana", "--scope", "branch:HN01"])
        try await a.ok(["note", "add", "c-1001", "--text", "kept through the renewal", "--author", "a-417", "--channel", "branch"])
        try await a.sync(server, token: tokenA)
        try await b.sync(server, token: tokenB)
        let oldCursor = try await Self.pullCursor(server, token: tokenB)
        if backend == .postgres {
            let backup = try await server.admin(["backup", "--to", folder.path("b.oxpecker")])
            #expect(backup.status == 4 && backup.stderr.contains("pg_dump -Fc"), "\(backup.stderr)")
            let restore = try await server.admin(["restore", "--from", folder.path("a.oxpecker")])
            #expect(restore.status == 4 && restore.stderr.contains("pg_restore") && restore.stderr.contains("renew-identity"), "\(restore.stderr)")
        }

        try await server.stop()
        let renewed = try await server.admin(["renew-identity"])
        #expect(renewed.succeeded, "renew-identity failed: \(renewed.stderr)")
        #expect(renewed.stdout.contains("new log identity"))
        try await server.restart()
        #expect(try await Self.pull(server, token: tokenB, after: oldCursor).contains(#""code":"cursor_expired""#))
        let summaryA = try await a.sync(server, token: tokenA)
        #expect(summaryA["server_log_changed"] == .bool(true))
        #expect(summaryA.integer("resent") == 4 && summaryA.integer("duplicates") == 4, "the log still has them: \(summaryA)")
        let summaryB = try await b.sync(server, token: tokenB)
        #expect(summaryB["server_log_changed"] == .bool(true))
        #expect(summaryB.integer("bootstrapped_customers") == 1)
        let exportA = try await a.exportBytes()
        #expect(exportA == (try await b.exportBytes()))
        #expect(exportA == (try await server.exportState()))
        #expect(String(decoding: exportA, as: UTF8.self).contains("kept through the renewal"))
    }

    @Test("a pull answered cursor_expired alone (a new cursor key, the same replica): the device bootstraps again from a cleared store and converges")
    func cursorExpiredAlone() async throws {
        let server = try await SyncServerProcess.start(.sqlite)
        defer { server.killNow() }
        let tokenA = try await server.createToken(name: "laptop-a")
        let tokenB = try await server.createToken(name: "laptop-b")
        let folder = try ScratchFolder()
        let (a, _) = try await DeviceCLI.create(in: folder, named: "a.oxpecker")
        let (b, _) = try await DeviceCLI.create(in: folder, named: "b.oxpecker")
        try await a.ok(["customer", "add", "c-1001", "--legal-name", "Jana", "--scope", "branch:HN01"])
        try await a.ok(["customer", "add", "c-1002", "--legal-name", "Petr", "--scope", "branch:HN01"])
        try await a.sync(server, token: tokenA)
        try await b.sync(server, token: tokenB)
        try await b.ok(["note", "add", "c-1001", "--text", "B's note, written before its cursor expired", "--author", "a-9", "--channel", "phone"])
        try await server.stop()
        let queue = try DatabaseQueue(path: (server.dataDirectory as NSString).appendingPathComponent("server.oxpecker"))
        try await queue.write { db in try db.execute(sql: "UPDATE server_secret SET value = ? WHERE name = 'cursor_key'", arguments: [String(repeating: "ab", count: 32)]) }
        try queue.close()
        try await server.restart()
        let summary = try await b.sync(server, token: tokenB)
        #expect(summary["server_log_changed"] == .bool(false))
        #expect(summary.integer("bootstrapped_customers") == 2, "cursor_expired at the pull: bootstrapped again")
        try await a.sync(server, token: tokenA)
        let exportA = try await a.exportBytes()
        #expect(exportA == (try await b.exportBytes()))
        #expect(String(decoding: exportA, as: UTF8.self).contains("B's note, written before its cursor expired"))
    }

    /// The copy's log is gap-free and every replica's acknowledged progress is in it: the log and
    /// the push bookkeeping come from one commit, and the file passes the integrity check.
    static func expectConsistent(_ path: String) throws {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? queue.close() }
        try queue.read { db in
            #expect(try String.fetchAll(db, sql: "PRAGMA integrity_check") == ["ok"])
            #expect(try String.fetchOne(db, sql: "PRAGMA journal_mode") == "delete")
            let (count, top) = try Row.fetchOne(db, sql: "SELECT count(*), max(position) FROM change_log").map { ($0[0] as Int, $0[1] as Int) } ?? (0, 0)
            #expect(count == top && count > 0, "gap-free log: \(count) changes up to \(top)")
            let behind = try Int.fetchOne(
                db,
                sql: """
                    SELECT count(*) FROM replica_progress p
                    WHERE p.acknowledged_through <> (SELECT count(*) FROM change_log l WHERE l.replica = p.replica AND l.number <= p.acknowledged_through)
                    """)
            #expect(behind == 0, "every acknowledged change is in the copy's log")
        }
    }

    /// A pull cursor the server hands `token` now.
    static func pullCursor(_ server: SyncServerProcess, token: String) async throws -> SyncCursor {
        let body = try await pull(server, token: token, after: nil)
        let page = try WireCodec().decode(PullResponse.self, from: Data(body.utf8))
        return page.nextCursor
    }

    /// A bootstrap page token (of a snapshot of one customer per page) the server hands `token` now.
    static func bootstrapPage(_ server: SyncServerProcess, token: String) async throws -> SyncCursor {
        let body = try await bootstrap(server, token: token, page: nil)
        return try #require(try WireCodec().decode(BootstrapPage.self, from: Data(body.utf8)).nextPage, "one customer per page: a next page")
    }

    static func pull(_ server: SyncServerProcess, token: String, after cursor: SyncCursor?) async throws -> String {
        try await post(server, "/v1/pull", token: token, body: Data(WireCodec().encode(PullRequest(after: cursor, limit: 1000))))
    }

    static func bootstrap(_ server: SyncServerProcess, token: String, page: SyncCursor?) async throws -> String {
        try await post(server, "/v1/bootstrap", token: token, body: Data(WireCodec().encode(BootstrapRequest(page: page, limit: 1))))
    }

    private static func post(_ server: SyncServerProcess, _ path: String, token: String, body: Data) async throws -> String {
        let response = try await HTTPSyncTransport(server: server.url).post(
            path: path, body: Array(body),
            headers: [("Oxpecker-Protocol", "1"), ("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")])
        return String(decoding: response.body, as: UTF8.self)
    }
}
