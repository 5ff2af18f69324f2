import OxpeckerProtocol
import OxpeckerStore

extension SyncClient {
    /// Pushes the outbox, oldest first, in batches that fit the server's limits.
    ///
    /// After each batch, in one transaction: the acknowledged changes
    /// (`accepted`, `duplicate`) leave the outbox, kept as pushed (pushed again if the
    /// server turns out to be restored from a backup: ``recoverIfServerLogChanged(_:_:)``); those refused for good as
    /// `invalid_change` or `out_of_scope` are moved aside for a person (never
    /// dropped: an advisor's note about a customer created without a scope must
    /// not vanish), and a customer refused as `out_of_scope` leaves this store
    /// (it is not in the device's scopes), its changes kept aside staying; a
    /// customer that left the scopes after the device held it is then purged
    /// whole by the pull's purge notice. Those of an erased customer
    /// (`customer_erased`) are dropped. Changes
    /// refused for a reason that may pass (`clock_skew`, `unsupported_kind`, an
    /// unknown outcome) stay in the outbox for the next sync and are reported.
    /// A batch that fails in transit is resent as it was: push is idempotent.
    func pushOutbox(_ session: ProtocolSession, _ run: inout SyncRun) async throws {
        run.toPush = try await store.read { try $0.outboxCount() }
        guard run.toPush > 0 else { return }
        let limits = session.serverLimits
        let maximumChanges = max(1, min(configuration.pushBatchSize, limits.maximumChangesPerPush))
        let overhead = PushBatch.overhead(replica: store.replica)
        let codec = WireCodec()
        // Each change is sent at most once per sync (retries aside): those kept
        // in the outbox after a rejection wait for the next sync.
        var after: Int64 = 0
        while true {
            let start = after
            let candidates = try await store.read { try $0.outbox(after: start, limit: maximumChanges) }
            guard !candidates.isEmpty else { break }
            let sizes = candidates.map { codec.encode($0).count }
            let count = try PushBatch.count(
                of: sizes, numbers: candidates.map(\.number), overhead: overhead, maximumChanges: maximumChanges,
                maximumBytes: limits.maximumBodyBytes)
            let batch = Array(candidates.prefix(count))
            let response = try await session.send(
                PushRequest(replica: store.replica, changes: batch), to: .push, expecting: PushResponse.self)
            let verdict = PushVerdict(batch: batch, response: response)
            for unknown in verdict.unexpectedNumbers {
                logger.warning("the server answered for a change that was not pushed", metadata: ["number": "\(unknown)"])
            }
            let acknowledged = verdict.acknowledged
            // A change of an erased customer is dropped, never kept: it may hold what the erasure removed.
            let erased = verdict.rejections.filter { $0.reason == .customerErased }.map(\.number)
            let permanent = verdict.rejections.filter { $0.permanent && $0.reason != .customerErased }
            let outOfScope = verdict.rejections.filter { $0.reason == .outOfScope }.map(\.customer)
            let purged = try await store.write { writer in
                try writer.acknowledge(acknowledged)
                try writer.discardFromOutbox(erased)
                for rejection in permanent {
                    try writer.recordRejection(of: rejection.number, reason: rejection.reason.rawValue, message: rejection.message)
                }
                var purged: [PurgedCustomer] = []
                for customer in outOfScope where !purged.contains(where: { $0.customer == customer }) {
                    let report = try writer.purge(customer, keepingSetAside: true)
                    if report.existed || report.droppedOutboxChanges > 0 {
                        purged.append(
                            PurgedCustomer(
                                customer: customer, reason: .leftScopes, existed: report.existed,
                                droppedOutboxChanges: report.droppedOutboxChanges))
                    }
                }
                return purged
            }
            run.summary.purged += purged.count
            run.summary.purges += purged
            for rejection in verdict.rejections {
                let fate =
                    rejection.reason == .customerErased
                    ? "the customer was erased; the change is dropped"
                    : rejection.reason == .outOfScope ? "the customer is not in this device's scopes; it leaves this store and the change is kept aside for a person"
                    : rejection.permanent ? "the server refused a change; it is kept aside for a person" : "the server refused a change for now; it stays in the outbox"
                logger.warning(
                    "\(fate)",
                    metadata: ["number": "\(rejection.number)", "customer": "\(rejection.customer)", "reason": "\(rejection.reason)", "message": "\(rejection.message)"])
            }
            run.summary.pushed += acknowledged.count
            run.summary.duplicates += verdict.duplicates
            run.summary.rejections += verdict.rejections
            run.report(.push)
            after = batch[batch.count - 1].number
        }
    }
}

/// What the answer to one push means for each change of the batch.
struct PushVerdict {
    /// Changes the server has: drop them from the outbox.
    var acknowledged: [Int64] = []
    /// Of those, the ones it had before this push.
    var duplicates = 0
    /// Changes the server did not take.
    var rejections: [RejectedChange] = []
    /// Numbers the answer names that were not in the batch.
    var unexpectedNumbers: [Int64] = []

    /// The reasons that will not pass by pushing again: a person must look.
    static let permanentReasons: Set<ErrorCode> = [.outOfScope, .invalidChange, .customerErased, .replicaConflict]

    init(batch: [Change], response: PushResponse) {
        let sent = Dictionary(batch.map { ($0.number, $0) }, uniquingKeysWith: { first, _ in first })
        var seen = Set<Int64>()
        for result in response.results {
            guard let change = sent[result.number], seen.insert(result.number).inserted else {
                unexpectedNumbers.append(result.number)
                continue
            }
            if result.outcome.isAcknowledged {
                acknowledged.append(result.number)
                if result.outcome == .duplicate { duplicates += 1 }
            } else if result.outcome == .rejected, let reason = result.reason {
                rejections.append(
                    RejectedChange(
                        number: result.number, customer: change.customer, reason: reason, message: result.message ?? "",
                        permanent: Self.permanentReasons.contains(reason)))
            } else {
                // An outcome from a newer server: not acknowledged, so the change stays.
                rejections.append(
                    RejectedChange(
                        number: result.number, customer: change.customer, reason: ErrorCode(unchecked: result.outcome.rawValue),
                        message: result.message ?? "outcome '\(result.outcome.rawValue)' is unknown to this client", permanent: false))
            }
        }
    }
}
