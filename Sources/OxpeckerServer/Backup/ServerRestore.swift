import Foundation
import GRDB
import OxpeckerProtocol

/// `oxpecker-server restore`: puts a backup made by ``ServerBackup`` in place of a data
/// directory's database, with the server stopped, and renews the log's identity.
///
/// In order, and nothing is changed until every check passed: the data directory's
/// database, if any, is opened exclusively (refused while the server or any other process
/// has it open) and its write-ahead log folded into it; the backup is checked (an Oxpecker
/// server database this build reads, `PRAGMA integrity_check`) and copied with the online
/// backup API into a temporary file in the data directory; the copy gets a new
/// ``LogIdentity`` (every cursor issued before is answered `cursor_expired`, devices see a
/// new server replica at their next hello and push again what the backup lacks). Then the
/// old database is kept under `server.oxpecker.before-restore-<time>` (a hard link made
/// before the swap) and the copy renamed over `server.oxpecker` in one step: a crash leaves
/// either database in place, never none.
///
/// ```swift
/// let report = try ServerRestore.restore(from: "/backups/2026-11-24.oxpecker", into: "/var/lib/oxpecker")
/// ```
public enum ServerRestore {
    /// What a restore did.
    public struct Report: Sendable, Equatable {
        /// The restored database's path.
        public var path: String
        /// The newest log position it holds.
        public var logPosition: Int64
        /// The changes its log holds.
        public var logChanges: Int
        /// Where the database it replaced is kept, if there was one.
        public var keptAside: String?
        /// The restored log's new server replica id.
        public var serverReplica: ReplicaID
    }

    /// Restores `backup` into `dataDirectory` (made if missing). Throws ``BackupError`` and changes nothing then.
    public static func restore(from backup: String, into dataDirectory: String, now: Date = Date()) throws -> Report {
        guard ServerDatabaseFile.exists(backup) else { throw BackupError.backupNotFound(path: backup) }
        let target = ServerDatabaseFile.path(in: dataDirectory)
        if let backupFile = identity(of: backup), backupFile == identity(of: target) { throw BackupError.sameFile(path: backup) }
        // The running server (or anything else) holding the database: refused before anything else is read or written.
        let current = ServerDatabaseFile.exists(target) ? try ServerDatabaseFile.openExclusively(target) : nil
        defer { try? current?.close() }
        try ServerDatabaseFile.check(backup)
        do {
            try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        } catch {
            throw BackupError.failed("cannot make the data directory '\(dataDirectory)': \(error.localizedDescription)")
        }
        let partial = (dataDirectory as NSString).appendingPathComponent(".\(ServerDatabaseFile.name).restoring-\(UUID().uuidString.lowercased())")
        do {
            try checkIntegrity(of: backup)
            let head = try ServerBackup.copy(backup, to: partial) { _, _ in }
            let replica = try renewIdentity(of: partial)
            ServerDatabaseFile.synchronize(partial)
            var keptAside: String?
            if current != nil {
                let aside = asideName(for: target, at: now)
                guard link(target, aside) == 0 else {
                    throw BackupError.failed("cannot keep the current database as '\(aside)': \(String(cString: strerror(errno)))")
                }
                keptAside = aside
            }
            guard rename(partial, target) == 0 else {
                throw BackupError.failed("cannot put the backup in place at '\(target)': \(String(cString: strerror(errno)))")
            }
            // Nothing has the old database open (it was locked until now): its index of the write-ahead log goes with it.
            unlink(target + "-shm")
            unlink(target + "-wal")
            ServerDatabaseFile.synchronize(dataDirectory)
            return Report(path: target, logPosition: head.position, logChanges: head.changes, keptAside: keptAside, serverReplica: replica)
        } catch {
            ServerDatabaseFile.removeWithSidecars(partial)
            if let error = error as? BackupError { throw error }
            if let error = error as? DatabaseError { throw BackupError.failed("restore of '\(backup)' failed: \(error.message ?? "\(error)")") }
            throw BackupError.failed("restore of '\(backup)' failed: \(error)")
        }
    }

    /// Renews the log identity of the database in `dataDirectory` in place (`oxpecker-server
    /// renew-identity`), refused while any process has it open; returns the new server replica.
    public static func renewIdentity(inDataDirectory dataDirectory: String) throws -> ReplicaID {
        let target = ServerDatabaseFile.path(in: dataDirectory)
        guard ServerDatabaseFile.exists(target) else { throw BackupError.noServerDatabase(dataDirectory: dataDirectory) }
        try ServerDatabaseFile.check(target)
        let queue = try ServerDatabaseFile.openExclusively(target)
        defer { try? queue.close() }
        do {
            return try queue.write { db in try LogIdentity.renew(in: db) }
        } catch let error as DatabaseError {
            throw BackupError.failed("cannot renew the identity of '\(target)': \(error.message ?? "\(error)")")
        }
    }

    private static func checkIntegrity(of path: String) throws {
        let queue = try DatabaseQueue(path: path, configuration: ServerDatabaseFile.readOnly())
        defer { try? queue.close() }
        try queue.read { db in try ServerDatabaseFile.checkIntegrity(of: db, path: path) }
    }

    private static func renewIdentity(of path: String) throws -> ReplicaID {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.write { db in try LogIdentity.renew(in: db) }
    }

    /// `server.oxpecker.before-restore-20261124T101500Z`, with `-2`, `-3` … if taken.
    private static func asideName(for target: String, at now: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let base = target + ".before-restore-" + formatter.string(from: now)
        var name = base
        var suffix = 2
        while ServerDatabaseFile.exists(name) {
            name = base + "-\(suffix)"
            suffix += 1
        }
        return name
    }

    /// The device and inode of the file at `path`, if there is one.
    private static func identity(of path: String) -> [UInt64]? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return [UInt64(status.st_dev), UInt64(status.st_ino)]
    }
}
