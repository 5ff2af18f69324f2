import OxpeckerProtocol
import PostgresNIO

/// Tokens of both kinds and the audit trail, as the SQLite backend keeps them.
extension PostgresServerStorage {
    /// The actor recorded for token operations, which come from the server's operator.
    static let administrator = "admin"

    private static func tokenTable(_ kind: TokenKind) -> String {
        kind == .device ? "device_token" : "admin_token"
    }

    /// The columns `tokenRecord` reads, in its order (an admin token has no scopes).
    private static func tokenColumns(_ kind: TokenKind) -> String {
        "id, name, \(kind == .device ? "scopes" : "'[]'"), created_at, expires_at, revoked_at"
    }

    private typealias TokenRow = (String, String, String, String, String?, String?)

    private static func tokenRecord(_ row: TokenRow, kind: TokenKind) throws -> TokenRecord {
        TokenRecord(
            id: row.0, kind: kind, name: row.1, scopes: (try JSONValue(parsing: row.2).arrayValue ?? []).compactMap(\.stringValue),
            createdAt: try Instant(parsing: row.3), expiresAt: try row.4.map { try Instant(parsing: $0) },
            revokedAt: try row.5.map { try Instant(parsing: $0) })
    }

    public func token(forHash tokenHash: String) async throws -> TokenRecord? {
        try await transaction("authenticating") { connection in
            for kind in TokenKind.allCases {
                let rows = try await connection.query(
                    PostgresQuery(
                        unsafeSQL: "SELECT \(Self.tokenColumns(kind)) FROM \(Self.tokenTable(kind)) WHERE token_hash = $1",
                        binds: try Self.binds(tokenHash)),
                    logger: connection.logger)
                for try await row in rows.decode(TokenRow.self) { return try Self.tokenRecord(row, kind: kind) }
            }
            return nil
        }
    }

    public func createToken(_ kind: TokenKind, name: String, scopes: [String], expiresAt: Instant?, now: Instant) async throws -> IssuedToken {
        let token = IssuedToken(id: TokenSecret.makeID(kind), secret: TokenSecret.make(kind))
        let hash = TokenSecret.hash(token.secret)
        let scopeText = JSONValue.array(scopes.map { .string($0) }).canonicalText
        try await transaction("creating a token") { connection in
            switch kind {
            case .device:
                try await connection.run(
                    """
                    INSERT INTO device_token (id, name, token_hash, scopes, created_at, expires_at)
                    VALUES (\(token.id), \(name), \(hash), \(scopeText), \(now.description), \(expiresAt?.description))
                    """)
            case .admin:
                try await connection.run(
                    """
                    INSERT INTO admin_token (id, name, token_hash, created_at, expires_at)
                    VALUES (\(token.id), \(name), \(hash), \(now.description), \(expiresAt?.description))
                    """)
            }
            try await PostgresAudit.record(
                .tokenCreate, at: now.description, actor: Self.administrator, token: token.id,
                detail: AuditEvent.tokenDetail(kind, scopes: scopes), on: connection)
        }
        return token
    }

    public func tokens(_ kind: TokenKind) async throws -> [TokenRecord] {
        try await transaction("listing tokens") { connection in
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT \(Self.tokenColumns(kind)) FROM \(Self.tokenTable(kind)) ORDER BY created_at COLLATE \"C\" DESC, id COLLATE \"C\""),
                logger: connection.logger)
            var records: [TokenRecord] = []
            for try await row in rows.decode(TokenRow.self) { records.append(try Self.tokenRecord(row, kind: kind)) }
            return records
        }
    }

    public func setTokenScopes(id: String, scopes: [String], at: Instant) async throws -> Bool {
        let scopeText = JSONValue.array(scopes.map { .string($0) }).canonicalText
        return try await transaction("changing a token's scopes") { connection in
            // The subscriptions notice: they were reconciled with the old scopes.
            let changed = try await connection.run("UPDATE device_token SET scopes = \(scopeText) WHERE id = \(id) RETURNING id")
            guard changed > 0 else { return false }
            try await PostgresAudit.record(
                .tokenScopes, at: at.description, actor: Self.administrator, token: id, detail: AuditEvent.tokenDetail(.device, scopes: scopes),
                on: connection)
            return true
        }
    }

    public func revokeToken(id: String, by actor: String, at: Instant) async throws -> Bool {
        try await transaction("revoking a token") { connection in
            var revoked = 0
            for kind in TokenKind.allCases {
                revoked += try await connection.run(
                    PostgresQuery(
                        unsafeSQL: "UPDATE \(Self.tokenTable(kind)) SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING id",
                        binds: try Self.binds(at.description, id)))
            }
            guard revoked > 0 else { return false }
            try await PostgresAudit.record(.tokenRevoke, at: at.description, actor: actor, token: id, on: connection)
            return true
        }
    }

    public func auditTrail(_ query: AuditQuery, limit: Int) async throws -> [AuditEvent] {
        try await transaction("reading the audit trail") { connection in try await PostgresAudit.events(query, limit: limit, on: connection) }
    }

    public func recordAccess(
        _ action: AuditEvent.Action, by actor: String, customer: CustomerID?, token: String?, detail: String?, at: Instant
    ) async throws {
        try await transaction("recording a reading in the audit trail") { connection in
            try await PostgresAudit.record(action, at: at.description, actor: actor, customer: customer, token: token, detail: detail, on: connection)
        }
    }

    /// Text values bound in order, for a statement whose table name is chosen in code.
    static func binds(_ values: String...) throws -> PostgresBindings {
        var bindings = PostgresBindings()
        for value in values { bindings.append(value) }
        return bindings
    }
}

/// The audit trail in the PostgreSQL backend: one row per event, appended in
/// the transaction of what it records; the database refuses to change or delete one.
enum PostgresAudit {
    static func record(
        _ action: AuditEvent.Action, at: String, actor: String, customer: CustomerID? = nil, entity: String? = nil,
        field: String? = nil, record: String? = nil, token: String? = nil, detail: String? = nil, on connection: PostgresConnection
    ) async throws {
        try await connection.run(
            """
            INSERT INTO audit_event (at, actor, action, customer, entity, field, record, token, detail)
            VALUES (\(at), \(actor), \(action.rawValue), \(customer?.rawValue), \(entity), \(field), \(record), \(token), \(detail))
            """)
    }

    /// Stored changes, as the trail keeps them (where each is, never what it says), in one statement.
    static func recordChanges(_ changes: [Change], by device: DeviceIdentity, at: String, on connection: PostgresConnection) async throws {
        guard !changes.isEmpty else { return }
        try await connection.run(
            """
            INSERT INTO audit_event (at, actor, action, customer, entity, field, record, detail)
            SELECT \(at), \(device.tokenID), \(AuditEvent.Action.change.rawValue), u.customer, u.entity, NULLIF(u.field, ''), NULLIF(u.record, ''), u.detail
            FROM unnest(\(changes.map(\.customer.rawValue))::text[], \(changes.map(\.entity.rawValue))::text[],
                        \(changes.map { $0.field ?? "" })::text[], \(changes.map { $0.record?.rawValue ?? "" })::text[],
                        \(changes.map(AuditEvent.detail(of:)))::text[]) WITH ORDINALITY AS u(customer, entity, field, record, detail, ordinal)
            ORDER BY u.ordinal
            """)
    }

    static func events(_ query: AuditQuery, limit: Int, on connection: PostgresConnection) async throws -> [AuditEvent] {
        let rows: PostgresRowSequence
        let columns = "sequence, at, actor, action, customer, entity, field, record, token, detail"
        switch query {
        case .customer(let customer):
            rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL: "SELECT \(columns) FROM audit_event WHERE customer = $1 ORDER BY sequence LIMIT $2",
                    binds: try bindings(customer.rawValue, limit)),
                logger: connection.logger)
        case .device(let token):
            rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL: "SELECT \(columns) FROM audit_event WHERE actor = $1 OR token = $1 ORDER BY sequence LIMIT $2",
                    binds: try bindings(token, limit)),
                logger: connection.logger)
        }
        var events: [AuditEvent] = []
        for try await row in rows.decode((Int64, String, String, String, String?, String?, String?, String?, String?, String?).self) {
            events.append(
                AuditEvent(
                    sequence: row.0, at: try Instant(parsing: row.1), actor: row.2, action: AuditEvent.Action(rawValue: row.3),
                    customer: row.4.map(CustomerID.init(unchecked:)), entity: row.5, field: row.6, record: row.7, token: row.8, detail: row.9))
        }
        return events
    }

    private static func bindings(_ text: String, _ limit: Int) throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(text)
        bindings.append(Int64(limit))
        return bindings
    }
}
