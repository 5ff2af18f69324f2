@_spi(OxpeckerServer) import OxpeckerStore
import Foundation
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
        },
        ServerMigration(name: "server-v2-subscriptions") { db in
            // What each device holds (Protocol/README.md, "Scopes"): a subscription per
            // bootstrapped store, its confirmed customers, and the changes to them sent in
            // answers not confirmed yet (confirmed by the next request's cursor).
            try db.execute(
                sql: """
                    CREATE TABLE membership_epoch (
                        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                        epoch INTEGER NOT NULL
                    );
                    INSERT INTO membership_epoch (singleton, epoch) VALUES (1, 1);
                    CREATE TABLE subscription (
                        id INTEGER PRIMARY KEY,
                        token_id TEXT NOT NULL,
                        created_at TEXT NOT NULL,
                        confirmed_seq INTEGER NOT NULL DEFAULT 0,
                        confirmed_at TEXT,
                        reconciled_epoch INTEGER NOT NULL DEFAULT 0,
                        reconciled_scopes TEXT NOT NULL DEFAULT ''
                    );
                    CREATE INDEX subscription_by_token ON subscription(token_id);
                    CREATE TABLE holding (
                        subscription INTEGER NOT NULL,
                        customer TEXT NOT NULL,
                        since INTEGER NOT NULL,
                        PRIMARY KEY (subscription, customer)
                    ) WITHOUT ROWID;
                    CREATE INDEX holding_by_customer ON holding(customer);
                    CREATE TABLE pending_answer (
                        subscription INTEGER NOT NULL,
                        seq INTEGER NOT NULL,
                        reconciled_epoch INTEGER,
                        reconciled_scopes TEXT,
                        PRIMARY KEY (subscription, seq)
                    ) WITHOUT ROWID;
                    CREATE TABLE pending_holding (
                        subscription INTEGER NOT NULL,
                        seq INTEGER NOT NULL,
                        customer TEXT NOT NULL,
                        held INTEGER NOT NULL,
                        since INTEGER NOT NULL,
                        PRIMARY KEY (subscription, seq, customer)
                    ) WITHOUT ROWID;
                    """)
        },
        ServerMigration(name: "server-v3-erasure") { db in
            // What an erasure leaves: who and when, no personal data (the store keeps its own tombstone).
            try db.execute(
                sql: """
                    CREATE TABLE erasure (
                        customer TEXT PRIMARY KEY NOT NULL,
                        erased_at TEXT NOT NULL,
                        erased_by TEXT NOT NULL,
                        removed_changes INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    """)
        },
        ServerMigration(name: "server-v4-audit") { db in
            // Append-only: the triggers refuse any update or delete, whoever asks.
            try db.execute(
                sql: """
                    CREATE TABLE audit_event (
                        sequence INTEGER PRIMARY KEY,
                        at TEXT NOT NULL,
                        actor TEXT NOT NULL,
                        action TEXT NOT NULL,
                        customer TEXT,
                        entity TEXT,
                        field TEXT,
                        record TEXT,
                        token TEXT,
                        detail TEXT
                    );
                    CREATE INDEX audit_event_by_customer ON audit_event(customer, sequence) WHERE customer IS NOT NULL;
                    CREATE INDEX audit_event_by_actor ON audit_event(actor, sequence);
                    CREATE INDEX audit_event_by_token ON audit_event(token, sequence) WHERE token IS NOT NULL;
                    CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
                        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
                    CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
                        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
                    """)
        },
        // Administrators' tokens live apart from devices': no scopes, and no device lookup can ever find one.
        ServerMigration(name: "server-v5-admin-tokens") { db in
            try db.execute(
                sql: """
                    CREATE TABLE admin_token (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        token_hash TEXT NOT NULL UNIQUE,
                        created_at TEXT NOT NULL,
                        expires_at TEXT,
                        revoked_at TEXT
                    );
                    """)
        },
        // A replica id belongs to the token of its first push (see SQLiteServerStorage.claim).
        ServerMigration(name: "server-v6-replica-owner") { db in
            try db.execute(
                sql: """
                    CREATE TABLE replica_owner (
                        replica TEXT PRIMARY KEY NOT NULL,
                        token_id TEXT NOT NULL,
                        since TEXT NOT NULL
                    );
                    """)
        },
        // The key that seals cursors (CursorSeal), made once: cursors stay valid across restarts.
        ServerMigration(name: "server-v7-cursor-key") { db in
            try db.execute(sql: "CREATE TABLE server_secret (name TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID")
            try db.execute(sql: "INSERT INTO server_secret (name, value) VALUES ('cursor_key', ?)", arguments: [CursorSeal.newKeyHex()])
        },
        // The customers a store created by a push, held by it before any pull answer said so
        // (SQLiteSubscriptions.adoptPushedCustomers): adopted as holdings at the store's next pull.
        ServerMigration(name: "server-v8-pushed-customer") { db in
            try db.execute(
                sql: """
                    CREATE TABLE pushed_customer (
                        replica TEXT NOT NULL,
                        customer TEXT NOT NULL,
                        PRIMARY KEY (replica, customer)
                    ) WITHOUT ROWID;
                    """)
        },
        // Which customers' scopes changed at which membership epoch (SQLiteSubscriptions.reconcile):
        // a pull compares only those, not every customer. Subscriptions reconciled before this
        // migration (below `changes_from`) compare everything once.
        ServerMigration(name: "server-v9-membership-change") { db in
            try db.execute(
                sql: """
                    CREATE TABLE membership_change (
                        epoch INTEGER NOT NULL,
                        customer TEXT NOT NULL,
                        PRIMARY KEY (epoch, customer)
                    ) WITHOUT ROWID;
                    ALTER TABLE membership_epoch ADD COLUMN changes_from INTEGER NOT NULL DEFAULT 0;
                    UPDATE membership_epoch SET epoch = epoch + 1, changes_from = epoch + 1;
                    """)
        },
        // The store a subscription belongs to, when it says (SQLiteSubscriptions.create): its new
        // bootstrap replaces its earlier subscriptions.
        ServerMigration(name: "server-v10-subscription-replica") { db in
            try db.execute(
                sql: """
                    ALTER TABLE subscription ADD COLUMN replica TEXT;
                    CREATE INDEX subscription_by_replica ON subscription(replica) WHERE replica IS NOT NULL;
                    """)
        },
        // Notes redacted before the log kept redacted notes without their text (RedactionRules):
        // their changes and revisions lose it now. The store empties the write-ahead log after.
        ServerMigration(name: "server-v11-redacted-text") { db in
            let notes = try RedactionRules.notes(
                redactedIn: String.fetchAll(db, sql: "SELECT body FROM change_log WHERE entity = 'note_redaction'"))
            guard !notes.isEmpty else { return }
            let logged = try Row.fetchAll(
                db,
                sql: """
                    SELECT position, body FROM change_log WHERE entity IN ('note', 'note_revision')
                      AND customer IN (SELECT customer FROM change_log WHERE entity = 'note_redaction')
                    """
            ).map { (position: $0[0] as Int64, body: $0[1] as String) }
            // Bodies read and written clear: data from before this migration is never encrypted
            // (encrypted data is made new, and its log is empty when this runs).
            try SQLiteServerStorage.storeBodies(RedactionRules.blankedBodies(logged, of: notes), in: db, sealing: false)
        },
        // The reconciliation round under way (ReconcileRound), and the progress an answer
        // records when it is confirmed: a pull page compares one slice of customers, not all.
        ServerMigration(name: "server-v12-reconcile-round") { db in
            try db.execute(
                sql: """
                    ALTER TABLE subscription ADD COLUMN round TEXT;
                    ALTER TABLE pending_answer ADD COLUMN round TEXT;
                    """)
        },
        // Log compaction (CompactionPolicy): when a store's pushed customer was recorded ('' before
        // this migration: as old as can be), and the horizon of the last compaction (for /metrics).
        ServerMigration(name: "server-v13-compaction") { db in
            try db.execute(
                sql: """
                    ALTER TABLE pushed_customer ADD COLUMN recorded_at TEXT NOT NULL DEFAULT '';
                    CREATE TABLE log_compaction (
                        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                        compacted_at TEXT NOT NULL,
                        horizon TEXT NOT NULL
                    );
                    """)
        },
    ]
}
