import GRDB
import OxpeckerProtocol

/// What tells one server log from another, for cursors and for devices: the key that seals
/// every cursor and bootstrap page token (``CursorSeal``) and the server's replica id, which
/// every hello announces.
///
/// A log restored from a backup is renewed (`oxpecker-server restore` does it; after
/// `pg_restore`, `oxpecker-server renew-identity`): its positions past the backup will be
/// numbered again, so nothing handed out before may be honoured. With a new key every
/// cursor made before is answered `cursor_expired`, whichever device sends it; with a
/// new replica id a device learns at its hello, before it pushes, that the log is not the
/// one it synced with, and pushes again what that log lacks (`SyncClient`, "server log").
///
/// ```swift
/// let replica = try LogIdentity.renew(in: db)   // SQLite, in a write transaction on the copy
/// ```
enum LogIdentity {
    /// Gives the SQLite server database `db` a new cursor key and a new replica id; returns the id.
    static func renew(in db: Database) throws -> ReplicaID {
        let replica = ReplicaID.random()
        try db.execute(sql: "UPDATE server_secret SET value = ? WHERE name = 'cursor_key'", arguments: [CursorSeal.newKeyHex()])
        guard db.changesCount == 1 else { throw BackupError.failed("the database has no cursor key to renew") }
        try db.execute(sql: "UPDATE store_info SET replica_id = ?", arguments: [replica.rawValue])
        guard db.changesCount == 1 else { throw BackupError.failed("the database has no store_info row") }
        return replica
    }
}
