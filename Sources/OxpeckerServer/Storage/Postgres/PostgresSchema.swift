import Logging
import PostgresNIO

/// The PostgreSQL backend's tables: named, append-only migrations, applied in
/// order and recorded in `oxpecker_migration`. Several instances starting at
/// once take turns on an advisory lock, so each migration runs once.
///
/// The tables mirror the SQLite backend's server tables (`ServerSchema`), with
/// the same names and meaning; where SQLite reads the server's customer store
/// (a customer's scopes, whether the server knows it), PostgreSQL keeps two
/// small tables of its own (`customer_scope`, `known_customer`).
///
/// Text that is compared or sorted (HLCs, customer ids, scopes) is
/// `COLLATE "C"`: byte order, the same as SQLite's and every device's.
enum PostgresSchema {
    struct Migration: Sendable {
        let name: String
        let statements: [String]
        /// Work done in Swift after the statements, in the same transaction.
        var rewrite: (@Sendable (PostgresConnection, Logger) async throws -> Void)? = nil
    }

    /// The advisory lock key migrations hold ('oxpmigr').
    static let migrationLock: Int64 = 0x6F78_706D_6967_72
    /// The advisory lock key every push holds shared and an erasure (or a compaction's
    /// removal of tombstones) exclusive, from its first read to its commit ('oxplog'):
    /// see `PostgresServerStorage.push`.
    static let appendLock: Int64 = 0x6F78_706C_6F67
    /// The advisory lock key `oxp_take_positions` holds for the instant a push takes its
    /// transaction id and its log positions ('oxppos').
    static let positionLock: Int64 = 0x6F78_7070_6F73
    /// The first key of the two-key advisory locks a push takes on its replica and its
    /// customers ('oxpk'); the second is the hash of `r:` + replica or `c:` + customer.
    static let pushLockSpace: Int32 = 0x6F78_706B

    static let migrations: [Migration] = [
        Migration(
            name: "server-v1-log-and-tokens",
            statements: [
                """
                CREATE TABLE server_identity (
                    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
                    replica text NOT NULL
                )
                """,
                "CREATE SEQUENCE change_log_position AS bigint",
                """
                CREATE TABLE change_log (
                    position bigint PRIMARY KEY,
                    replica text COLLATE "C" NOT NULL,
                    number bigint NOT NULL,
                    hlc text COLLATE "C" NOT NULL,
                    customer text COLLATE "C" NOT NULL,
                    entity text NOT NULL,
                    field text COLLATE "C",
                    kind text NOT NULL,
                    body text NOT NULL,
                    superseded boolean NOT NULL DEFAULT false,
                    device text NOT NULL,
                    received_at text NOT NULL,
                    UNIQUE (replica, number)
                )
                """,
                "CREATE INDEX change_log_by_customer ON change_log (customer, position)",
                "CREATE INDEX change_log_live_registers ON change_log (customer, field) WHERE kind = 'register' AND NOT superseded",
                """
                CREATE TABLE push_refusal (
                    replica text COLLATE "C" NOT NULL,
                    number bigint NOT NULL,
                    reason text NOT NULL,
                    message text NOT NULL,
                    PRIMARY KEY (replica, number)
                )
                """,
                """
                CREATE TABLE replica_progress (
                    replica text COLLATE "C" PRIMARY KEY,
                    acknowledged_through bigint NOT NULL
                )
                """,
                """
                CREATE TABLE device_token (
                    id text PRIMARY KEY,
                    name text NOT NULL,
                    token_hash text NOT NULL UNIQUE,
                    scopes text NOT NULL,
                    created_at text NOT NULL,
                    expires_at text,
                    revoked_at text
                )
                """,
                // The customers the server has a change of (SQLite: the store's customer table).
                "CREATE TABLE known_customer (customer text COLLATE \"C\" PRIMARY KEY)",
                // Each customer's scopes as an add-wins set (SQLite: the store's set_element rows of `scopes`).
                """
                CREATE TABLE customer_scope (
                    customer text COLLATE "C" NOT NULL,
                    element text COLLATE "C" NOT NULL,
                    tag text COLLATE "C" NOT NULL,
                    removed_hlc text COLLATE "C",
                    PRIMARY KEY (customer, element, tag)
                )
                """,
                "CREATE INDEX customer_scope_live ON customer_scope (element, customer) WHERE removed_hlc IS NULL",
            ]),
        Migration(
            name: "server-v2-subscriptions",
            statements: [
                """
                CREATE TABLE membership_epoch (
                    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
                    epoch bigint NOT NULL
                )
                """,
                "INSERT INTO membership_epoch (epoch) VALUES (1)",
                """
                CREATE TABLE subscription (
                    id bigserial PRIMARY KEY,
                    token_id text NOT NULL,
                    created_at text NOT NULL,
                    confirmed_seq bigint NOT NULL DEFAULT 0,
                    confirmed_at text,
                    reconciled_epoch bigint NOT NULL DEFAULT 0,
                    reconciled_scopes text NOT NULL DEFAULT ''
                )
                """,
                "CREATE INDEX subscription_by_token ON subscription (token_id)",
                """
                CREATE TABLE holding (
                    subscription bigint NOT NULL,
                    customer text COLLATE "C" NOT NULL,
                    since bigint NOT NULL,
                    PRIMARY KEY (subscription, customer)
                )
                """,
                "CREATE INDEX holding_by_customer ON holding (customer)",
                """
                CREATE TABLE pending_answer (
                    subscription bigint NOT NULL,
                    seq bigint NOT NULL,
                    reconciled_epoch bigint,
                    reconciled_scopes text,
                    PRIMARY KEY (subscription, seq)
                )
                """,
                """
                CREATE TABLE pending_holding (
                    subscription bigint NOT NULL,
                    seq bigint NOT NULL,
                    customer text COLLATE "C" NOT NULL,
                    held boolean NOT NULL,
                    since bigint NOT NULL,
                    PRIMARY KEY (subscription, seq, customer)
                )
                """,
            ]),
        Migration(
            name: "server-v3-erasure",
            statements: [
                """
                CREATE TABLE erasure (
                    customer text COLLATE "C" PRIMARY KEY,
                    erased_at text NOT NULL,
                    erased_by text NOT NULL,
                    removed_changes bigint NOT NULL
                )
                """
            ]),
        Migration(
            name: "server-v4-audit",
            statements: [
                """
                CREATE TABLE audit_event (
                    sequence bigserial PRIMARY KEY,
                    at text NOT NULL,
                    actor text NOT NULL,
                    action text NOT NULL,
                    customer text COLLATE "C",
                    entity text,
                    field text,
                    record text,
                    token text,
                    detail text
                )
                """,
                "CREATE INDEX audit_event_by_customer ON audit_event (customer, sequence) WHERE customer IS NOT NULL",
                "CREATE INDEX audit_event_by_actor ON audit_event (actor, sequence)",
                "CREATE INDEX audit_event_by_token ON audit_event (token, sequence) WHERE token IS NOT NULL",
                // Append-only: the trigger refuses any update or delete, whoever asks (TRUNCATE too).
                """
                CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END $$
                """,
                """
                CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event
                    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()
                """,
                """
                CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
                    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()
                """,
            ]),
        Migration(
            name: "server-v5-admin-tokens",
            statements: [
                """
                CREATE TABLE admin_token (
                    id text PRIMARY KEY,
                    name text NOT NULL,
                    token_hash text NOT NULL UNIQUE,
                    created_at text NOT NULL,
                    expires_at text,
                    revoked_at text
                )
                """
            ]),
        // A replica id belongs to the token of its first push (see PushRules.claim).
        Migration(
            name: "server-v6-replica-owner",
            statements: [
                """
                CREATE TABLE replica_owner (
                    replica text COLLATE "C" PRIMARY KEY,
                    token_id text NOT NULL,
                    since text NOT NULL
                )
                """
            ]),
        // The key that seals cursors (CursorSeal), made once, shared by every instance.
        Migration(
            name: "server-v7-cursor-key",
            statements: [
                "CREATE TABLE server_secret (name text PRIMARY KEY, value text NOT NULL)",
                "INSERT INTO server_secret (name, value) VALUES ('cursor_key', '\(CursorSeal.newKeyHex())')",
            ]),
        // The customers a store created by a push, held by it before any pull answer said so
        // (PostgresSubscriptions.adoptPushedCustomers): adopted as holdings at the store's next pull.
        Migration(
            name: "server-v8-pushed-customer",
            statements: [
                """
                CREATE TABLE pushed_customer (
                    replica text COLLATE "C" NOT NULL,
                    customer text COLLATE "C" NOT NULL,
                    PRIMARY KEY (replica, customer)
                )
                """
            ]),
        // Which customers' scopes changed at which membership epoch (PostgresSubscriptions.reconcile):
        // a pull compares only those. Subscriptions reconciled before this migration compare everything once.
        Migration(
            name: "server-v9-membership-change",
            statements: [
                """
                CREATE TABLE membership_change (
                    epoch bigint NOT NULL,
                    customer text COLLATE "C" NOT NULL,
                    PRIMARY KEY (epoch, customer)
                )
                """,
                "ALTER TABLE membership_epoch ADD COLUMN changes_from bigint NOT NULL DEFAULT 0",
                "UPDATE membership_epoch SET epoch = epoch + 1, changes_from = epoch + 1",
            ]),
        // The store a subscription belongs to, when it says (PostgresSubscriptions.create).
        Migration(
            name: "server-v10-subscription-replica",
            statements: [
                "ALTER TABLE subscription ADD COLUMN replica text COLLATE \"C\"",
                "CREATE INDEX subscription_by_replica ON subscription (replica) WHERE replica IS NOT NULL",
            ]),
        // Notes redacted before the log kept redacted notes without their text (RedactionRules):
        // their changes and revisions lose it now.
        Migration(name: "server-v11-redacted-text", statements: [], rewrite: blankRedactedText),
        // The reconciliation round under way (ReconcileRound), and the progress an answer
        // records when it is confirmed: a pull page compares one slice of customers, not all.
        Migration(
            name: "server-v12-reconcile-round",
            statements: [
                "ALTER TABLE subscription ADD COLUMN round text",
                "ALTER TABLE pending_answer ADD COLUMN round text",
            ]),
        // Encrypted data records the id of its key store (PostgresServerEncryption); plain data has no row.
        Migration(
            name: "server-v13-encryption",
            statements: [
                """
                CREATE TABLE server_encryption (
                    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
                    key_store text NOT NULL
                )
                """
            ]),
        // Log compaction (CompactionPolicy): when a store's pushed customer was recorded ('' before
        // this migration: as old as can be), and the horizon of the last compaction (for /metrics).
        Migration(
            name: "server-v14-compaction",
            statements: [
                "ALTER TABLE pushed_customer ADD COLUMN recorded_at text NOT NULL DEFAULT ''",
                """
                CREATE TABLE log_compaction (
                    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
                    compacted_at text NOT NULL,
                    horizon text NOT NULL
                )
                """,
            ]),
        // Concurrent pushes (PostgresServerStorage+Push.swift): a log row records the transaction
        // that wrote it (NULL before this migration: stable long ago), and a push takes its
        // transaction id and its positions together, so position order is transaction order.
        Migration(
            name: "server-v15-concurrent-pushes",
            statements: [
                "ALTER TABLE change_log ADD COLUMN xid xid8",
                "ALTER TABLE change_log ALTER COLUMN xid SET DEFAULT pg_current_xact_id()",
                """
                CREATE FUNCTION oxp_take_positions(count integer) RETURNS SETOF bigint LANGUAGE plpgsql AS $$
                BEGIN
                    IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
                        RAISE EXCEPTION 'oxp_take_positions must come before the first write of its transaction';
                    END IF;
                    PERFORM pg_advisory_lock(\(positionLock));
                    BEGIN
                        PERFORM pg_current_xact_id();
                        RETURN QUERY SELECT nextval('change_log_position') FROM generate_series(1, count);
                    EXCEPTION WHEN OTHERS OR query_canceled THEN
                        PERFORM pg_advisory_unlock(\(positionLock));
                        RAISE;
                    END;
                    PERFORM pg_advisory_unlock(\(positionLock));
                END
                $$
                """,
            ]),
    ]

    /// The transaction id below which every log row is stable, in the statement's snapshot: the
    /// oldest transaction in flight that may be a push of this database (one running in another
    /// database of the cluster cannot write here; one whose database cannot be told, because it
    /// ended meanwhile or its role's activity is hidden, counts), or, with none, the next id.
    static let stableBound = """
        coalesce((SELECT min(x) FROM pg_snapshot_xip(pg_current_snapshot()) AS x
                  WHERE x::xid NOT IN (SELECT backend_xid FROM pg_stat_activity
                                       WHERE datname <> current_database() AND backend_xid IS NOT NULL)),
                 pg_snapshot_xmax(pg_current_snapshot()))
        """

    /// Log rows no push still in flight can precede: every row at or below the highest of them
    /// is committed, and none will ever appear there (`PostgresServerStorage.push`).
    static let stable = "(change_log.xid IS NULL OR change_log.xid < \(stableBound))"

    /// ``RedactionRules`` applied to a log written before it (migration server-v11).
    private static func blankRedactedText(_ connection: PostgresConnection, logger: Logger) async throws {
        var redactions: [String] = []
        for try await body in try await connection.query(
            "SELECT body FROM change_log WHERE entity = 'note_redaction'", logger: logger
        ).decode(String.self) { redactions.append(body) }
        let notes = try RedactionRules.notes(redactedIn: redactions)
        guard !notes.isEmpty else { return }
        var logged: [(position: Int64, body: String)] = []
        for try await (position, body) in try await connection.query(
            """
            SELECT position, body FROM change_log WHERE entity IN ('note', 'note_revision')
              AND customer IN (SELECT customer FROM change_log WHERE entity = 'note_redaction')
            """, logger: logger
        ).decode((Int64, String).self) { logged.append((position, body)) }
        try await connection.storeBodies(RedactionRules.blankedBodies(logged, of: notes))
    }

    /// Applies the migrations not applied yet; returns their names.
    ///
    /// Neither waiting for another instance's migrations nor a migration itself is
    /// bounded by the statement timeout (a rewrite of a large log takes as long as it
    /// takes): the transaction sets its own `statement_timeout` to none. Every
    /// statement's rows are read before the next is sent (`run`, `one`), so a failure
    /// is reported by the statement that failed.
    @discardableResult
    static func migrate(_ client: PostgresClient, logger: Logger) async throws -> [String] {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.run("SET LOCAL statement_timeout = 0")
            if try await connection.one("SELECT pg_try_advisory_xact_lock(\(migrationLock))", as: Bool.self) != true {
                logger.info("another instance is applying migrations; waiting for it")
                try await connection.run("SELECT pg_advisory_xact_lock(\(migrationLock))")
            }
            try await connection.run(
                "CREATE TABLE IF NOT EXISTS oxpecker_migration (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
            var applied = Set<String>()
            for try await name in try await connection.query("SELECT name FROM oxpecker_migration", logger: logger).decode(String.self) {
                applied.insert(name)
            }
            var ran: [String] = []
            for migration in migrations where !applied.contains(migration.name) {
                logger.info("applying migration", metadata: ["migration": "\(migration.name)"])
                for statement in migration.statements {
                    try await connection.run(PostgresQuery(unsafeSQL: statement))
                }
                try await migration.rewrite?(connection, logger)
                try await connection.run("INSERT INTO oxpecker_migration (name) VALUES (\(migration.name))")
                ran.append(migration.name)
            }
            return ran
        }
    }
}

