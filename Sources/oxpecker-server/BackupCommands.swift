import ArgumentParser
import Foundation
import OxpeckerServer
import Synchronization

/// The exit statuses of `backup`, `restore` and `renew-identity`: 3 nothing to read
/// (no backup, no database), 4 refused (a file in the way, not a server database,
/// damaged, PostgreSQL), 5 the database in use, 1 a failure of the file system.
extension BackupError {
    var exitCode: ExitCode {
        switch self {
        case .noServerDatabase, .backupNotFound: ExitCode(3)
        case .destinationExists, .destinationFolderMissing, .notAServerDatabase, .newerVersion, .damaged, .sameFile, .postgres: ExitCode(4)
        case .databaseInUse: ExitCode(5)
        case .failed: ExitCode(1)
        }
    }

    /// Prints the error and exits with its status.
    func exit() -> ExitCode {
        FileHandle.standardError.write(Data("error: \(description)\n".utf8))
        return exitCode
    }
}

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a consistent copy of the embedded SQLite database while the server runs.",
        discussion: """
            Uses SQLite's online backup API inside one read transaction: pushes go on meanwhile and the copy \
            is the database as one commit left it. The copy is one self-contained file (no write-ahead log), \
            checked with PRAGMA integrity_check, written under a temporary name in FILE's folder and linked \
            as FILE only when complete; FILE is never overwritten. Prints its path, size and log position. \
            Exit status 3: no server database in --data-dir; 4: FILE exists, its folder is missing, or \
            --postgres (use pg_dump -Fc there). Restore it with `oxpecker-server restore --from FILE`.
            """)
    @OptionGroup var data: DataOptions
    @Option(name: .customLong("to"), help: "The backup file to write; it must not exist, its folder must.") var file: String
    @Flag(help: "Print no progress.") var quiet = false

    func run() async throws {
        guard data.postgresURL == nil else {
            throw BackupError.postgres(
                "backup is for the embedded SQLite database; on PostgreSQL use `pg_dump -Fc` (consistent while the instances run, see README \"Backup and restore\")"
            ).exit()
        }
        let start = ContinuousClock.now
        let reporter = BackupProgress(enabled: !quiet)
        do {
            let report = try ServerBackup.write(from: data.dataDirectory, to: file, progress: reporter.report)
            let elapsed = (ContinuousClock.now - start).components
            let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
            print(
                "backed up \(data.dataDirectory) to \(report.path): \(report.bytes) bytes, log position \(report.logPosition) "
                    + "(\(report.logChanges) changes), integrity ok, in \(String(format: "%.2f", seconds)) s")
        } catch let error as BackupError {
            throw error.exit()
        }
    }
}

struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Put a backup in place of the embedded SQLite database, with the server stopped, and renew the log's identity.",
        discussion: """
            Refused while any process has the data directory's database open (the server: stop it first), \
            and unless FILE is an Oxpecker server database that passes PRAGMA integrity_check. The current \
            database is kept beside it as server.oxpecker.before-restore-<UTC time>, never deleted; the \
            backup is copied in (FILE is left as it was) and swapped in with one rename. \
            The restored log gets a new identity (a new cursor key and server replica id): every cursor \
            and bootstrap page token issued before is answered cursor_expired, and each device learns at \
            its next sync that the log changed, pushes again the changes it had pushed (the backup lacks \
            those made after it) and bootstraps again. What only the server held after the backup (an \
            erasure, tokens made or revoked, a change whose device is gone) is not in it: see README. \
            Exit status 3: no FILE; 4: not a server database, damaged, or --postgres (use pg_restore, then \
            `renew-identity`); 5: the database is in use.
            """)
    @OptionGroup var data: DataOptions
    @Option(name: .customLong("from"), help: "The backup to restore (made by `oxpecker-server backup`).") var file: String

    func run() async throws {
        guard data.postgresURL == nil else {
            throw BackupError.postgres(
                "restore is for the embedded SQLite database; on PostgreSQL stop every instance, `pg_restore -d DB FILE` into an empty database, "
                    + "then run `oxpecker-server renew-identity --postgres URL` before starting them"
            ).exit()
        }
        do {
            let report = try ServerRestore.restore(from: file, into: data.dataDirectory)
            print("restored \(file) to \(report.path): log position \(report.logPosition) (\(report.logChanges) changes)")
            if let aside = report.keptAside { print("the database it replaced is kept as \(aside)") }
            print(
                "new log identity (server replica \(report.serverReplica)): cursors issued before are expired; devices push again what this backup lacks at their next sync"
            )
        } catch let error as BackupError {
            throw error.exit()
        }
    }
}

struct RenewIdentity: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "renew-identity",
        abstract: "Give the server's log a new identity after it was restored from a backup by other means (pg_restore).",
        discussion: """
            A new cursor key and a new server replica id: every cursor and bootstrap page token issued \
            before is answered cursor_expired, and each device, at its next sync, pushes again the changes \
            it had pushed and bootstraps again. `restore` does this itself on SQLite. Run it with the \
            server stopped: SQLite refuses while the database is open (exit status 5); on PostgreSQL stop \
            every instance first (each caches both from its start).
            """)
    @OptionGroup var data: DataOptions

    func run() async throws {
        do {
            if data.postgresURL != nil {
                guard let storage = try await data.openStorage() as? PostgresServerStorage else { throw ExitCode(1) }
                let replica: String
                do {
                    replica = try await storage.renewLogIdentity().rawValue
                } catch {
                    await storage.shutdown()
                    throw error
                }
                await storage.shutdown()
                print("new log identity for \(data.location) (server replica \(replica)): cursors issued before are expired")
            } else {
                let replica = try ServerRestore.renewIdentity(inDataDirectory: data.dataDirectory)
                print("new log identity for \(data.dataDirectory) (server replica \(replica)): cursors issued before are expired")
            }
        } catch let error as BackupError {
            throw error.exit()
        }
    }
}

/// Prints the copy's progress on stderr every tenth of the way, for databases of more than a few thousand pages.
final class BackupProgress: Sendable {
    private let enabled: Bool
    private let printed = Mutex(-1)

    init(enabled: Bool) { self.enabled = enabled }

    func report(copied: Int, total: Int) {
        guard enabled, total > 4096 else { return }
        let tenth = copied * 10 / max(total, 1)
        let due = printed.withLock { last in
            guard tenth > last else { return false }
            last = tenth
            return true
        }
        if due { FileHandle.standardError.write(Data("copying: \(tenth * 10)% (\(copied) of \(total) pages)\n".utf8)) }
    }
}
