import OxpeckerProtocol

/// What administrators read, recorded in the audit trail before it is shown:
/// the trail itself, where an erasure stands, the tokens, the whole state. A
/// regulator expects access to personal data, and to its traces, to be
/// logged; the HTTP admin endpoints and the `oxpecker-server` commands read
/// only through these. If the event cannot be recorded, nothing is read.
///
/// ```swift
/// let events = try await storage.readAuditTrail(.customer("c-1001"), limit: 100, by: admin.tokenID, at: now)
/// ```
extension ServerStorage {
    /// The audit trail of a customer or a device token, its reading recorded first under `actor`
    /// (so the answer ends with that reading).
    public func readAuditTrail(_ query: AuditQuery, limit: Int, by actor: String, at now: Instant) async throws -> [AuditEvent] {
        switch query {
        case .customer(let customer):
            try await recordAccess(.auditRead, by: actor, customer: customer, token: nil, detail: "limit \(limit)", at: now)
        case .device(let token):
            try await recordAccess(.auditRead, by: actor, customer: nil, token: token, detail: "limit \(limit)", at: now)
        }
        return try await auditTrail(query, limit: limit)
    }

    /// Where the erasure of `customer` stands (nil if it was not erased), its reading recorded first under `actor`.
    public func readErasureStatus(of customer: CustomerID, by actor: String, at now: Instant) async throws -> ErasureStatus? {
        try await recordAccess(.erasureStatusRead, by: actor, customer: customer, token: nil, detail: nil, at: now)
        return try await erasureStatus(of: customer)
    }

    /// Every token of `kind`, newest first, the listing recorded first under `actor`.
    public func listTokens(_ kind: TokenKind, by actor: String, at now: Instant) async throws -> [TokenRecord] {
        try await recordAccess(.tokenList, by: actor, customer: nil, token: nil, detail: kind.rawValue, at: now)
        return try await tokens(kind)
    }

    /// The server's whole state (every customer's data), the export recorded first under `actor`.
    public func exportState(by actor: String, at now: Instant) async throws -> String {
        try await recordAccess(.stateExport, by: actor, customer: nil, token: nil, detail: nil, at: now)
        return try await exportState()
    }
}
