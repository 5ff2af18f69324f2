import Foundation
import GRDB

/// `oxpecker-server backup`: an online, consistent copy of the embedded backend's database
/// while the server runs.
///
/// SQLite's online backup API copies the pages inside one read transaction on the source
/// (WAL mode: the server's pushes go on meanwhile and are simply not in the copy), so the
/// copy is the database as one commit left it, the log and the merged state agreeing. It
/// is written under a temporary name in the destination's folder, switched out of WAL mode
/// (one self-contained file), checked with `PRAGMA integrity_check`, flushed, and only
/// then linked under its name, which it never overwrites: a crash leaves no file at the
/// destination, only a `.partial-…` one beside it.
///
/// ```swift
/// let report = try ServerBackup.write(from: "/var/lib/oxpecker", to: "/backups/2026-11-24.oxpecker")
/// print(report.bytes, report.logPosition)
/// ```
public enum ServerBackup {
    /// What a backup wrote.
    public struct Report: Sendable, Equatable {
        /// The backup's path.
        public var path: String
        /// Its size.
        public var bytes: Int64
        /// The newest log position it holds.
        public var logPosition: Int64
        /// The changes its log holds.
        public var logChanges: Int
    }

    /// Pages copied so far and the database's pages, after each step of the copy.
    public typealias Progress = @Sendable (_ copied: Int, _ total: Int) -> Void

    /// Copies the database of `dataDirectory` to `destination`, which must not exist, in a
    /// folder that does. Throws ``BackupError`` (and writes nothing at `destination`).
    public static func write(from dataDirectory: String, to destination: String, progress: @escaping Progress = { _, _ in }) throws -> Report {
        let source = ServerDatabaseFile.path(in: dataDirectory)
        guard FileManager.default.fileExists(atPath: source) else { throw BackupError.noServerDatabase(dataDirectory: dataDirectory) }
        try ServerDatabaseFile.check(source)
        guard !ServerDatabaseFile.exists(destination) else { throw BackupError.destinationExists(path: destination) }
        let folder = ServerDatabaseFile.folder(of: destination)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw BackupError.destinationFolderMissing(folder: folder)
        }
        let partial = (folder as NSString).appendingPathComponent(
            "." + (destination as NSString).lastPathComponent + ".partial-" + UUID().uuidString.lowercased())
        do {
            let head = try copy(source, to: partial, progress: progress)
            try publish(partial, as: destination)
            let bytes = ((try? FileManager.default.attributesOfItem(atPath: destination))?[.size] as? NSNumber)?.int64Value ?? 0
            return Report(path: destination, bytes: bytes, logPosition: head.position, logChanges: head.changes)
        } catch {
            ServerDatabaseFile.removeWithSidecars(partial)
            if let error = error as? BackupError { throw error }
            if let error = error as? DatabaseError { throw BackupError.failed("backup of '\(source)' failed: \(error.message ?? "\(error)")") }
            throw BackupError.failed("backup of '\(source)' failed: \(error)")
        }
    }

    /// Copies `source` into a new file at `target` with the online backup API, inside one read
    /// transaction of the source; the copy is self-contained and checked. Returns its log head.
    static func copy(_ source: String, to target: String, progress: @escaping Progress) throws -> (position: Int64, changes: Int) {
        let reader = try DatabaseQueue(path: source, configuration: ServerDatabaseFile.readOnly())
        defer { try? reader.close() }
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        let copy = try DatabaseQueue(path: target, configuration: configuration)
        defer { try? copy.close() }
        let head = try copy.writeWithoutTransaction { copyDB in
            try reader.inDatabase { sourceDB in
                // The read transaction fixes the snapshot: every step of the backup reads it, and
                // commits of the server meanwhile neither show in the copy nor restart it.
                var head: (position: Int64, changes: Int) = (0, 0)
                try sourceDB.inTransaction(.deferred) {
                    head = try ServerDatabaseFile.logHead(in: sourceDB)
                    try sourceDB.backup(to: copyDB, pagesPerStep: 1024) { step in
                        progress(step.totalPageCount - step.remainingPageCount, step.totalPageCount)
                    }
                    return .commit
                }
                return head
            }
        }
        try copy.writeWithoutTransaction { db in
            // The copy took the source's WAL mode with its pages: one file, no log beside it.
            _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = DELETE")
            try ServerDatabaseFile.checkIntegrity(of: db, path: target)
            let copied = try ServerDatabaseFile.logHead(in: db)
            guard copied == head else {
                throw BackupError.failed("the copy's log ends at \(copied.position), the source's snapshot at \(head.position)")
            }
        }
        return head
    }

    /// Makes the finished file at `partial` durable and gives it the name `destination`, never
    /// replacing a file there (a hard link fails if the name is taken; then the partial goes).
    static func publish(_ partial: String, as destination: String) throws {
        ServerDatabaseFile.synchronize(partial)
        guard link(partial, destination) == 0 else {
            let reason = String(cString: strerror(errno))
            if errno == EEXIST { throw BackupError.destinationExists(path: destination) }
            throw BackupError.failed("cannot write '\(destination)': \(reason)")
        }
        unlink(partial)
        ServerDatabaseFile.synchronize(ServerDatabaseFile.folder(of: destination))
    }
}
