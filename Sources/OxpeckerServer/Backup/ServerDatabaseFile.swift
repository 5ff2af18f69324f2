import Foundation
import GRDB
@_spi(OxpeckerServer) import OxpeckerStore

/// The embedded backend's database file, `server.oxpecker` in a data directory, as the
/// backup and restore commands see it: checked before anything is read from it, opened
/// read-only or exclusively, never through the storage (which would create or migrate it).
enum ServerDatabaseFile {
    /// The file name in every data directory.
    static let name = "server.oxpecker"

    /// The database's path in `dataDirectory`.
    static func path(in dataDirectory: String) -> String {
        (dataDirectory as NSString).appendingPathComponent(name)
    }

    /// Throws unless `path` is a server database this build can read: an Oxpecker store
    /// (application id, migrations no newer than this build's) with the server's tables.
    static func check(_ path: String) throws(BackupError) {
        do {
            try CustomerStore.checkServerState(at: path, migrations: ServerSchema.migrations)
        } catch StoreError.notAnOxpeckerStore(_, let reason) {
            throw .notAServerDatabase(path: path, reason: reason)
        } catch StoreError.schemaTooNew(let found, let supported) {
            throw .newerVersion(path: path, detail: "schema \(found), this build reads up to \(supported)")
        } catch {
            throw .notAServerDatabase(path: path, reason: "\(error)")
        }
        let tables: Set<String>
        do {
            let queue = try DatabaseQueue(path: path, configuration: readOnly())
            defer { try? queue.close() }
            tables = try queue.read { db in
                Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('change_log', 'server_secret', 'store_info')"))
            }
        } catch {
            throw .notAServerDatabase(path: path, reason: "it cannot be read (\(error))")
        }
        guard tables.contains("store_info") else { throw .notAServerDatabase(path: path, reason: "it has no store_info table") }
        guard tables.contains("change_log") else {
            throw .notAServerDatabase(path: path, reason: "it has no change log (a device's store, not the server's?)")
        }
        guard tables.contains("server_secret") else {
            throw .notAServerDatabase(path: path, reason: "it has no cursor key (made by a server older than this one's migrations can read)")
        }
    }

    /// Where the log stands in `db`: its newest position and how many changes it holds.
    static func logHead(in db: Database) throws -> (position: Int64, changes: Int) {
        let row = try Row.fetchOne(db, sql: "SELECT coalesce(max(position), 0), count(*) FROM change_log")
        return (row?[0] ?? 0, row?[1] ?? 0)
    }

    /// `PRAGMA integrity_check` on `db`; throws ``BackupError/damaged(path:detail:)`` unless it says ok.
    static func checkIntegrity(of db: Database, path: String) throws {
        let findings = try String.fetchAll(db, sql: "PRAGMA integrity_check")
        guard findings == ["ok"] else {
            throw BackupError.damaged(path: path, detail: findings.prefix(3).joined(separator: "; "))
        }
    }

    /// A read-only connection's configuration (it may still create the write-ahead log's index, as any reader of a WAL database).
    static func readOnly() -> Configuration {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        return configuration
    }

    /// Opens `path` so that no other connection, in this process or another, can use it
    /// while the queue is open: ``BackupError/databaseInUse(path:)`` if one has it open now
    /// (a running server holds its database open from start to stop). Its write-ahead log
    /// is copied into the file and removed, so the file alone holds the database.
    static func openExclusively(_ path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.busyMode = .immediateError
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE") }
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            do {
                try queue.writeWithoutTransaction { db in
                    try db.execute(sql: "BEGIN EXCLUSIVE TRANSACTION; COMMIT")
                    _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = DELETE")
                }
            } catch {
                try? queue.close()
                throw error
            }
            return queue
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
            throw BackupError.databaseInUse(path: path)
        } catch let error as DatabaseError {
            throw BackupError.failed("cannot open '\(path)': \(error.message ?? "\(error)")")
        }
    }

    /// The folder `path` is in ("." for a bare name).
    static func folder(of path: String) -> String {
        let folder = (path as NSString).deletingLastPathComponent
        return folder.isEmpty ? "." : folder
    }

    /// Whether anything is at `path`, a dangling symbolic link included.
    static func exists(_ path: String) -> Bool {
        var status = stat()
        return lstat(path, &status) == 0
    }

    /// Removes `path` and the files SQLite may have left beside it.
    static func removeWithSidecars(_ path: String) {
        for suffix in ["", "-journal", "-wal", "-shm"] { unlink(path + suffix) }
    }

    /// Flushes the file or folder at `path` to disk (a rename is durable once its folder is).
    static func synchronize(_ path: String) {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }
}
