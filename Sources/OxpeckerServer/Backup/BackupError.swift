/// Why `oxpecker-server backup`, `restore` or `renew-identity` refused or failed, said
/// for the operator; nothing was written in any of these cases.
public enum BackupError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The data directory holds no server database.
    case noServerDatabase(dataDirectory: String)
    /// Something is already at the backup's path: a backup never overwrites.
    case destinationExists(path: String)
    /// The folder the backup is to be written in does not exist.
    case destinationFolderMissing(folder: String)
    /// The backup to restore is not there.
    case backupNotFound(path: String)
    /// The file is not an Oxpecker server database (a device store, another SQLite file, not SQLite).
    case notAServerDatabase(path: String, reason: String)
    /// The file was written by a newer version of the server.
    case newerVersion(path: String, detail: String)
    /// The file's pages do not check out (`PRAGMA integrity_check`).
    case damaged(path: String, detail: String)
    /// Another process has the database open (a running server, another command).
    case databaseInUse(path: String)
    /// The backup to restore is the data directory's own database.
    case sameFile(path: String)
    /// The operation does not exist on PostgreSQL: what to do instead.
    case postgres(String)
    /// The file system or SQLite failed.
    case failed(String)

    public var description: String {
        switch self {
        case .noServerDatabase(let directory):
            "the data directory '\(directory)' holds no server database (server.oxpecker); nothing to back up"
        case .destinationExists(let path):
            "'\(path)' exists; a backup never overwrites a file: choose a new name or move it away"
        case .destinationFolderMissing(let folder):
            "the folder '\(folder)' does not exist; create it first"
        case .backupNotFound(let path):
            "no backup at '\(path)'"
        case .notAServerDatabase(let path, let reason):
            "'\(path)' is not an Oxpecker server database: \(reason)"
        case .newerVersion(let path, let detail):
            "'\(path)' was written by a newer oxpecker-server (\(detail)); restore it with that version"
        case .damaged(let path, let detail):
            "'\(path)' is damaged: \(detail)"
        case .databaseInUse(let path):
            "'\(path)' is in use by another process (is the server running?); stop every process that has it open first"
        case .sameFile(let path):
            "'\(path)' is the data directory's own database, not a backup"
        case .postgres(let message):
            message
        case .failed(let message):
            message
        }
    }
}
