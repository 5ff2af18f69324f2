@_spi(OxpeckerServer) import OxpeckerStore
import GRDB

/// The server's own tables, in the same SQLite file as its materialized state.
/// Named, append-only migrations, as the store's.
enum ServerSchema {
    static let migrations: [ServerMigration] = [
        ServerMigration(name: "server-v1-log-and-tokens") { db in
            try db.execute(
                sql: """
                    CREATE TABLE change_log (
                        position INTEGER PRIMARY KEY,
                        replica TEXT NOT NULL,
                        number INTEGER NOT NULL,
                        hlc TEXT NOT NULL,
                        customer TEXT NOT NULL,
                        entity TEXT NOT NULL,
                        field TEXT,
                        kind TEXT NOT NULL,
                        body TEXT NOT NULL,
                        superseded INTEGER NOT NULL DEFAULT 0,
                        device TEXT NOT NULL,
                        received_at TEXT NOT NULL,
                        UNIQUE (replica, number)
                    );
                    CREATE INDEX change_log_by_customer ON change_log(customer, position);
                    CREATE INDEX change_log_live_registers ON change_log(customer, field) WHERE kind = 'register' AND superseded = 0;
                    CREATE TABLE push_refusal (
                        replica TEXT NOT NULL,
                        number INTEGER NOT NULL,
                        reason TEXT NOT NULL,
                        message TEXT NOT NULL,
                        PRIMARY KEY (replica, number)
                    ) WITHOUT ROWID;
                    CREATE TABLE replica_progress (
                        replica TEXT PRIMARY KEY NOT NULL,
                        acknowledged_through INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE TABLE device_token (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        token_hash TEXT NOT NULL UNIQUE,
                        scopes TEXT NOT NULL,
                        created_at TEXT NOT NULL,
                        expires_at TEXT,
                        revoked_at TEXT
                    );
                    """)
        }
    ]
}
