import OxpeckerProtocol
import OxpeckerStore

/// Where a sync stands, reported after each step that committed something, for
/// a progress line: counts so far in this sync.
///
/// ```swift
/// try await client.sync { progress in print("pushed \(progress.pushed), pulled \(progress.pulled)") }
/// ```
public struct SyncProgress: Sendable, Hashable {
    /// The phases of a sync, in order.
    public enum Phase: String, Sendable, Hashable {
        /// The handshake.
        case hello
        /// Fetching and storing the snapshot of a new device.
        case bootstrap
        /// Sending the outbox.
        case push
        /// Fetching and applying everyone else's changes.
        case pull
    }

    /// The phase the sync is in.
    public var phase: Phase
    /// Outbox changes the server has acknowledged so far.
    public var pushed: Int
    /// Outbox changes waiting when the push began (an estimate for a progress bar).
    public var toPush: Int
    /// Changes from other replicas received by pulls so far.
    public var pulled: Int
    /// Customers received by the bootstrap so far.
    public var bootstrapped: Int
}

/// A pushed change the server did not take, as a sync reports it.
public struct RejectedChange: Sendable, Hashable {
    /// The outbox change's number.
    public var number: Int64
    /// The customer it is about.
    public var customer: CustomerID
    /// The protocol's code: `out_of_scope`, `invalid_change`, `clock_skew`, `unsupported_kind` …
    public var reason: ErrorCode
    /// The server's explanation.
    public var message: String
    /// Whether the change is refused for good (`invalid_change`, `out_of_scope`:
    /// moved aside for a person, and for `out_of_scope` the customer leaves the
    /// store; `customer_erased`: dropped),
    /// rather than kept in the outbox to push again.
    public var permanent: Bool
}

/// A customer a sync removed from the store, as a sync reports it.
public struct PurgedCustomer: Sendable, Hashable {
    /// The customer.
    public var customer: CustomerID
    /// Why: `left_scopes`, `erased`, or a reason from a newer server (handled like `left_scopes`).
    public var reason: PurgeReason
    /// Whether the store held the customer at all.
    public var existed: Bool
    /// Unsent changes about the customer that were dropped with it.
    public var droppedOutboxChanges: Int
}

/// What a sync did about this device's stamps when they were ahead of the server's
/// clock beyond its allowance (`Protocol/README.md`, "HLC rules").
public enum ClockRecoveryResult: Sendable, Hashable {
    /// The unsent changes stamped too far ahead got new stamps from the server's time,
    /// and the clock moved back (the report says how many, and by how much).
    case restamped(ClockRecoveryReport)
    /// This device's clock itself is more than the allowance ahead of the server's:
    /// nothing was restamped (new changes would be stamped ahead again). Fix the clock.
    case deviceClockAhead(byMillis: Int64, allowanceMillis: Int64)
    /// A stamp the store keeps and may not change (another replica's, or one the server
    /// has) is beyond the allowance: nothing was restamped. The server's clock is probably behind.
    case blocked(by: HybridTimestamp, allowanceMillis: Int64)
}

/// What one sync did.
public struct SyncSummary: Sendable, Hashable {
    /// Outbox changes the server acknowledged (`accepted` or `duplicate`).
    public var pushed: Int = 0
    /// Of ``pushed``, those the server had already (a retry of a push whose answer was lost).
    public var duplicates: Int = 0
    /// Changes of other replicas received by pulls (applied, or already known).
    public var pulled: Int = 0
    /// Of ``pulled``, those that changed this store.
    public var applied: Int = 0
    /// Customers received by a bootstrap.
    public var bootstrappedCustomers: Int = 0
    /// Changes received in a bootstrap.
    public var bootstrappedChanges: Int = 0
    /// Customers removed from this store (they left its scopes, or were erased).
    public var purged: Int = 0
    /// The customers removed, with what went with them, in the order the server sent them.
    public var purges: [PurgedCustomer] = []
    /// Changes of a kind this build does not know, kept aside to apply after an upgrade.
    public var parked: Int = 0
    /// Received changes this store could not apply (invalid for its data model).
    public var unapplied: Int = 0
    /// Guarded fields with concurrent values in the store after the sync, for a person to resolve.
    public var conflicts: Int = 0
    /// Pushed changes the server did not take in this sync.
    public var rejections: [RejectedChange] = []
    /// Changes still in the outbox after the sync (transient rejections, changes made meanwhile).
    public var pending: Int = 0
    /// The server's clock minus this device's, measured at the handshake (round trip not subtracted).
    public var clockOffset: Duration = .zero
    /// What the sync did about changes stamped beyond the server's clock-skew allowance, in
    /// order (usually nothing; at most one entry per handshake).
    public var clockRecoveries: [ClockRecoveryResult] = []
    /// How long the sync took.
    public var duration: Duration = .zero
    /// Whether the server's log was not the one this store synced with before (a server
    /// restored from a backup: a new replica id): the store bootstrapped again and pushed
    /// again the changes it had pushed before (``resent``).
    public var serverLogChanged = false
    /// Changes the server had acknowledged before and that were put back in the outbox, because
    /// its log changed; counted in ``pushed`` as they are pushed again (those it still had as duplicates).
    public var resent: Int = 0

    /// Makes an empty summary.
    public init() {}
}
