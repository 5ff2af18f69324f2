import GRDB
import OxpeckerProtocol

/// The store's schema: named, append-only migrations. A released migration is
/// never edited; a change to the schema is a new migration at the end.
enum StoreSchema {
    /// `PRAGMA application_id` of every Oxpecker store ("OXPK"), to tell our files from other SQLite files.
    static let applicationID: Int32 = 0x4F58_504B

    /// The schema versions, in order; a store's version is the number of them it has applied.
    static let migrationNames = [
        "v1-customer-context", "v2-full-text-search", "v3-remote-changes", "v4-encryption", "v5-pushed-changes",
    ]

    /// The schema version this build writes.
    static var currentVersion: Int { migrationNames.count }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration(migrationNames[0]) { db in
            try createCustomerContextTables(db)
            try db.execute(sql: "PRAGMA application_id = \(applicationID)")
            try db.execute(sql: "PRAGMA user_version = 1")
        }
        migrator.registerMigration(migrationNames[1]) { db in
            try createSearchIndex(db)
            try db.execute(sql: "PRAGMA user_version = 2")
        }
        migrator.registerMigration(migrationNames[2]) { db in
            try createMergeTables(db)
            try db.execute(sql: "PRAGMA user_version = 3")
        }
        migrator.registerMigration(migrationNames[3]) { db in
            try StoreEncryption.createTables(db)
            try db.execute(sql: "PRAGMA user_version = 4")
        }
        migrator.registerMigration(migrationNames[4]) { db in
            try createPushedChanges(db)
            try db.execute(sql: "PRAGMA user_version = 5")
        }
        return migrator
    }

    /// v1: customers, profile fields, sets, notes, consents, life events, contacts, outbox.
    private static func createCustomerContextTables(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE store_info (
                    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                    replica_id TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    last_hlc TEXT,
                    next_number INTEGER NOT NULL
                );
                CREATE TABLE customer (
                    id TEXT PRIMARY KEY NOT NULL,
                    hlc TEXT NOT NULL,
                    replica TEXT NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE field_value (
                    customer_id TEXT NOT NULL REFERENCES customer(id) ON DELETE CASCADE,
                    field TEXT NOT NULL,
                    value TEXT NOT NULL,
                    hlc TEXT NOT NULL,
                    replica TEXT NOT NULL,
                    PRIMARY KEY (customer_id, field)
                ) WITHOUT ROWID;
                CREATE INDEX field_value_lookup ON field_value(field, value);
                CREATE TABLE set_element (
                    customer_id TEXT NOT NULL REFERENCES customer(id) ON DELETE CASCADE,
                    field TEXT NOT NULL,
                    element TEXT NOT NULL,
                    tag TEXT NOT NULL,
                    removed_hlc TEXT,
                    PRIMARY KEY (customer_id, field, element, tag)
                ) WITHOUT ROWID;
                CREATE INDEX set_element_lookup ON set_element(field, element, customer_id);
                CREATE TABLE note (
                    id TEXT PRIMARY KEY NOT NULL,
                    customer_id TEXT NOT NULL REFERENCES customer(id) ON DELETE CASCADE,
                    author TEXT NOT NULL,
                    channel TEXT NOT NULL,
                    at TEXT NOT NULL,
                    sentiment TEXT,
                    follow_up TEXT,
                    hlc TEXT NOT NULL,
                    replica TEXT NOT NULL
                );
                CREATE INDEX note_by_customer ON note(customer_id, at, id);
                CREATE TABLE note_revision (
                    id TEXT PRIMARY KEY NOT NULL,
                    note_id TEXT NOT NULL,
                    customer_id TEXT NOT NULL REFERENCES customer(id) ON DELETE CASCADE,
                    text TEXT,
                    author TEXT NOT NULL,
                    at TEXT NOT NULL,
                    hlc TEXT NOT NULL,
                    replica TEXT NOT NULL
                );
                CREATE INDEX note_revision_by_note ON note_revision(note_id, hlc);
                CREATE TABLE note_redaction (
                    note_id TEXT PRIMARY KEY NOT NULL,
                    customer_id TEXT NOT NULL REFERENCES customer(id) ON DELETE CASCADE,
                    redacted_by TEXT NOT NULL,
                    at TEXT NOT NULL,
                    reason TEXT,
                    hlc TEXT NOT NULL,
                    replica TEXT NOT NULL
                );
                CREATE TABLE consent_event (
                    id TEXT PRIMARY KEY NOT NULL,
                    customer_id TEXT NOT NULL REFERENCES customer(id) ON DELETE CASCADE,
                    purpose TEXT NOT NULL,
                    status TEXT NOT NULL,
                    source TEXT NOT NULL,
                    at TEXT NOT NULL,
                    observed TEXT NOT NULL,
                    hlc TEXT NOT NULL,
                    replica TEXT NOT NULL
                );
                CREATE INDEX consent_by_customer ON consent_event(customer_id, purpose, hlc);
                CREATE TABLE life_event (
                    id TEXT PRIMARY KEY NOT NULL,
                    customer_id TEXT NOT NULL REFERENCES customer(id) ON DELETE CASCADE,
                    type TEXT NOT NULL,
                    date TEXT NOT NULL,
                    source TEXT NOT NULL,
                    confidence INTEGER NOT NULL,
                    detail TEXT,
                    hlc TEXT NOT NULL,
                    replica TEXT NOT NULL
                );
                CREATE INDEX life_event_by_customer ON life_event(customer_id, date);
                CREATE TABLE contact (
                    id TEXT PRIMARY KEY NOT NULL,
                    customer_id TEXT NOT NULL REFERENCES customer(id) ON DELETE CASCADE,
                    channel TEXT NOT NULL,
                    purpose TEXT NOT NULL,
                    topic TEXT NOT NULL,
                    at TEXT NOT NULL,
                    outcome TEXT NOT NULL,
                    hlc TEXT NOT NULL,
                    replica TEXT NOT NULL
                );
                CREATE INDEX contact_by_customer ON contact(customer_id, at);
                CREATE TABLE outbox (
                    number INTEGER PRIMARY KEY,
                    hlc TEXT NOT NULL,
                    customer_id TEXT NOT NULL,
                    entity TEXT NOT NULL,
                    field TEXT,
                    record TEXT,
                    kind TEXT NOT NULL,
                    value TEXT NOT NULL,
                    observed TEXT
                );
                """)
    }

    /// v2: a full-text index over customer names and current note texts, filled from existing data.
    private static func createSearchIndex(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE search_document (
                    rowid INTEGER PRIMARY KEY,
                    customer_id TEXT NOT NULL,
                    source TEXT NOT NULL,
                    ref TEXT NOT NULL,
                    UNIQUE (source, ref)
                );
                CREATE INDEX search_document_by_customer ON search_document(customer_id);
                CREATE VIRTUAL TABLE search_index USING fts5(
                    body, tokenize = 'unicode61 remove_diacritics 2'
                );
                """)
        try SearchIndex.indexAll(in: db)
    }

    /// v3: what merging remote changes and syncing need: every write of a guarded field
    /// (to tell concurrent writes from later ones), tombstones of erased customers, the
    /// sync checkpoints, changes of kinds this build does not know, refused pushes, and
    /// the per-customer indexes that export and purge read revisions and redactions by.
    private static func createMergeTables(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE guarded_write (
                    customer_id TEXT NOT NULL REFERENCES customer(id) ON DELETE CASCADE,
                    field TEXT NOT NULL,
                    hlc TEXT NOT NULL,
                    value TEXT NOT NULL,
                    observed TEXT NOT NULL,
                    PRIMARY KEY (customer_id, field, hlc)
                ) WITHOUT ROWID;
                INSERT INTO guarded_write (customer_id, field, hlc, value, observed)
                    SELECT customer_id, field, hlc, value, '[]' FROM field_value
                    WHERE field IN ('legal_name', 'birth_date', 'tax_residence');
                CREATE TABLE erased_customer (
                    id TEXT PRIMARY KEY NOT NULL,
                    hlc TEXT NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX note_revision_by_customer ON note_revision(customer_id);
                CREATE INDEX note_redaction_by_customer ON note_redaction(customer_id);
                CREATE TABLE sync_state (
                    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                    pull_cursor TEXT,
                    bootstrap_page TEXT,
                    bootstrap_resume_cursor TEXT,
                    bootstrapped INTEGER NOT NULL DEFAULT 0,
                    server TEXT,
                    last_sync_at TEXT
                );
                INSERT INTO sync_state (singleton) VALUES (1);
                CREATE TABLE parked_change (
                    replica TEXT NOT NULL,
                    number INTEGER NOT NULL,
                    body TEXT NOT NULL,
                    PRIMARY KEY (replica, number)
                ) WITHOUT ROWID;
                CREATE TABLE push_rejection (
                    number INTEGER PRIMARY KEY,
                    change TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    message TEXT NOT NULL,
                    at TEXT NOT NULL
                );
                """)
    }

    /// v5: the store's own changes the server acknowledged, kept after they leave the outbox
    /// (``StoreWriter/acknowledge(_:)``), and the server replica the store last synced with: a
    /// server restored from a backup answers with a new replica id and lacks what was pushed
    /// after the backup; the store then pushes those changes again
    /// (``StoreWriter/requeuePushedChanges()``). Changes acknowledged before this version are not kept.
    private static func createPushedChanges(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE pushed_change (
                    number INTEGER PRIMARY KEY,
                    hlc TEXT NOT NULL,
                    customer_id TEXT NOT NULL,
                    entity TEXT NOT NULL,
                    field TEXT,
                    record TEXT,
                    kind TEXT NOT NULL,
                    value TEXT NOT NULL,
                    observed TEXT,
                    acknowledged_at INTEGER NOT NULL
                );
                CREATE INDEX pushed_change_by_customer ON pushed_change(customer_id);
                CREATE INDEX pushed_change_by_age ON pushed_change(acknowledged_at);
                ALTER TABLE sync_state ADD COLUMN server_replica TEXT;
                """)
    }
}
