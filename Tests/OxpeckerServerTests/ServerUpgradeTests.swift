import Foundation
import GRDB
import Logging
import OxpeckerProtocol
import OxpeckerTestSupport
import PostgresNIO
import Testing

@testable import OxpeckerServer
@_spi(OxpeckerServer) @testable import OxpeckerStore

/// A server database written by each earlier schema version, opened by today's
/// server: every device that bootstraps from it gets the same state, pushes go on,
/// and a redacted text or an erased customer does not come back. The earlier
/// databases are fixtures made by code: today's server database projected onto each
/// earlier schema, the server stopped (SQLite: ``SchemaProjection``; PostgreSQL: the
/// same in schemas, ``projectPostgres(_:release:first:)``). Real processes, serialized.
@Suite("Server databases of every earlier schema version", .serialized)
struct ServerUpgradeTests {
    /// The schema versions a released SQLite server wrote: the store's schema as it was then
    /// (v3 until the server's v12; v4, encryption, came after it) with each server version.
    static let sqliteReleases: [(store: Int, server: Int)] =
        (1...ServerSchema.migrations.count).map { (3, $0) } + [(4, ServerSchema.migrations.count)]
    /// The PostgreSQL schema's versions (it has no store schema).
    static let postgresReleases: [(store: Int, server: Int)] = (1...PostgresSchema.migrations.count).map { (0, $0) }

    @Test("each earlier version's database opens with today's server: new devices bootstrap the same state, push, and converge",
          arguments: ServerBackend.all)
    func opensAndServes(backend: ServerBackend) async throws {
        let server = try await SyncServerProcess.start(backend)
        defer { server.killNow() }
        let token = try await server.createToken(name: "laptop-a")
        let folder = try ScratchFolder()
        let (a, _) = try await DeviceCLI.create(in: folder, named: "a.oxpecker")
        try await a.ok(["customer", "add", "c-1001", "--legal-name", "Jana Nováková", "--stage", "prospect", "--scope", "branch:HN01"])
        try await a.ok(["customer", "add", "c-1002", "--legal-name", "Petr Svoboda", "--scope", "branch:HN01"])
        try await a.ok(["customer", "add", "c-1003", "--legal-name", "Erased Person", "--scope", "branch:HN01"])
        try await a.ok(["customer", "add-to", "c-1001", "interests", "sailing"])
        try await a.ok(["note", "add", "c-1001", "--text", "Wants a mortgage for a cottage", "--author", "a-417", "--channel", "branch"])
        let slip = try await a.ok(["note", "add", "c-1002", "--text", "Wrote this by mistake", "--author", "a-417", "--channel", "phone"])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try await a.ok(["consent", "c-1001", "--purpose", "marketing", "--grant", "--source", "branch"])
        try await a.sync(server, token: token)
        try await a.ok(["note", "redact", slip, "--by", "dpo", "--reason", "mistake"])
        try await a.ok(["customer", "set", "c-1001", "stage", "active"])
        try await a.sync(server, token: token)
        let erased = try await server.admin(["customer", "erase", "c-1003", "--by", "dpo-office"])
        #expect(erased.succeeded, "\(erased.stderr)")
        try await a.sync(server, token: token)
        let expected = try await server.exportState()
        #expect(expected == (try await a.exportBytes()))
        try await server.stop()

        let database = (server.dataDirectory as NSString).appendingPathComponent("server.oxpecker")
        let today = folder.path("today-server.oxpecker")
        if backend == .sqlite {
            try await DatabaseQueue(path: database).writeWithoutTransaction { db in
                _ = try db.checkpoint(.truncate)
                try db.execute(sql: "VACUUM INTO ?", arguments: [today])
            }
        }
        let releases = backend == .sqlite ? Self.sqliteReleases : Self.postgresReleases
        for (index, release) in releases.enumerated() {
            let label = "\(backend): store v\(release.store), server v\(release.server)"
            if backend == .sqlite {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }
                try SchemaProjection.project(today, onto: database) { queue in
                    try StoreSchema.migrator.migrate(queue, upTo: StoreSchema.migrationNames[release.store - 1])
                    var server = DatabaseMigrator()
                    for migration in ServerSchema.migrations { server.registerMigration(migration.name, migrate: migration.migrate) }
                    try server.migrate(queue, upTo: ServerSchema.migrations[release.server - 1].name)
                }
                let applied = try await DatabaseQueue(path: database).read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM grdb_migrations") }
                #expect(applied == release.store + release.server, "\(label): the fixture has the migrations of that release only")
            } else {
                try await Self.projectPostgres(server.database, release: release.server, first: index == 0)
                #expect(try await server.database.count("SELECT count(*) FROM oxpecker_migration") == release.server, "\(label)")
            }
            try await server.restart()
            let (c, _) = try await DeviceCLI.create(in: folder, named: "c-\(release.store)-\(release.server).oxpecker")
            let first = try await c.sync(server, token: token)
            #expect(first.integer("bootstrapped_customers") == 2, "\(label): \(first)")
            #expect(try await c.exportBytes() == expected, "\(label): a new device does not get the state the server had")
            try await c.ok(["note", "add", "c-1002", "--text", "Written after the upgrade", "--author", "a-502", "--channel", "branch"])
            try await c.sync(server, token: token)
            let (d, _) = try await DeviceCLI.create(in: folder, named: "d-\(release.store)-\(release.server).oxpecker")
            try await d.sync(server, token: token)
            let exported = try await d.exportBytes()
            #expect(exported == (try await c.exportBytes()), "\(label)")
            #expect(exported == (try await server.exportState()), "\(label)")
            let text = String(decoding: exported, as: UTF8.self)
            #expect(text.contains("Written after the upgrade") && text.contains("Wants a mortgage"), "\(label)")
            #expect(!text.contains("by mistake") && !text.contains("Erased Person"), "\(label): redacted or erased data came back")
            try await server.stop()
        }
    }

    /// Today's PostgreSQL tables moved aside once (schema `today`); then a schema `public`
    /// made by the migrations up to `release` (in one transaction, as an instance of that
    /// release would), filled from today's tables with the columns it has, its sequences
    /// where today's stood.
    static func projectPostgres(_ database: TestDatabase, release: Int, first: Bool) async throws {
        try await database.inTransaction { connection in
            try await connection.run(first ? "ALTER SCHEMA public RENAME TO today" : "DROP SCHEMA public CASCADE")
            try await connection.run("CREATE SCHEMA public")
            try await connection.run("SET LOCAL search_path = public")
            try await connection.run("SET LOCAL session_replication_role = replica")  // rows copied in any order: no foreign-key checks
            try await connection.run(
                "CREATE TABLE oxpecker_migration (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
            for migration in PostgresSchema.migrations.prefix(release) {
                for statement in migration.statements { try await connection.run(PostgresQuery(unsafeSQL: statement)) }
                try await migration.rewrite?(connection, Logger(label: "oxpecker-test.upgrade"))
                try await connection.run("INSERT INTO oxpecker_migration (name) VALUES (\(migration.name))")
            }
            let tables = try await Self.strings(
                connection,
                """
                SELECT table_name FROM information_schema.tables
                WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'oxpecker_migration' ORDER BY table_name
                """)
            for table in tables {
                let columns = try await Self.strings(
                    connection,
                    """
                    SELECT column_name FROM information_schema.columns c
                    WHERE table_schema = 'public' AND table_name = '\(table)' AND is_generated = 'NEVER'
                      AND EXISTS (SELECT 1 FROM information_schema.columns t
                                  WHERE t.table_schema = 'today' AND t.table_name = c.table_name AND t.column_name = c.column_name)
                    ORDER BY ordinal_position
                    """)
                guard !columns.isEmpty else { continue }
                let list = columns.map { "\"\($0)\"" }.joined(separator: ", ")
                try await connection.run(PostgresQuery(unsafeSQL: "DELETE FROM public.\"\(table)\""))
                try await connection.run(
                    PostgresQuery(unsafeSQL: "INSERT INTO public.\"\(table)\" (\(list)) OVERRIDING SYSTEM VALUE SELECT \(list) FROM today.\"\(table)\""))
            }
            // Sequences (the log's positions) go on where today's stood.
            let sequences = try await Self.strings(
                connection,
                """
                SELECT sequence_name FROM information_schema.sequences s WHERE sequence_schema = 'public'
                  AND EXISTS (SELECT 1 FROM information_schema.sequences t WHERE t.sequence_schema = 'today' AND t.sequence_name = s.sequence_name)
                """)
            for sequence in sequences {
                try await connection.run(
                    PostgresQuery(
                        unsafeSQL: """
                            SELECT setval('public."\(sequence)"', last_value, is_called) FROM today."\(sequence)"
                            """))
            }
        }
    }

    private static func strings(_ connection: PostgresConnection, _ sql: String) async throws -> [String] {
        var values: [String] = []
        for try await value in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Logger(label: "oxpecker-test.upgrade"))
            .decode(String.self)
        {
            values.append(value)
        }
        return values
    }
}
