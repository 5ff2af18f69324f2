import OxpeckerProtocol
import OxpeckerStore

extension SyncClient {
    /// Pulls pages after the stored cursor until the server has no more. Each
    /// page is committed in one transaction: its changes applied by the merge
    /// rules (this replica's own, echoed back, are skipped; unknown kinds are
    /// parked), then its purges, then the next cursor. A crash before the commit
    /// repeats the page, which is harmless: applying a change twice changes nothing.
    ///
    /// On `cursor_expired` the store bootstraps again, once, then goes on pulling.
    func pullUntilCaughtUp(_ session: ProtocolSession, _ run: inout SyncRun) async throws {
        let limit = max(1, min(configuration.pullPageSize, session.serverLimits.maximumChangesPerPull))
        let me = store.replica
        let serverReplica = session.serverReplica
        var cursor = try await store.read { try $0.syncCheckpoint() }.pullCursor.flatMap(SyncCursor.init)
        var bootstrappedAgain = false
        while true {
            let page: PullResponse
            do {
                // With our replica, the server leaves our own changes out of the log (we have them).
                page = try await session.send(
                    PullRequest(after: cursor, limit: limit, replica: me), to: .pull, expecting: PullResponse.self)
            } catch SyncError.refused(let refusal) where refusal.code == .cursorExpired && !bootstrappedAgain {
                logger.notice("the server no longer knows this store's cursor; bootstrapping again")
                bootstrappedAgain = true
                // The server no longer knows what this store holds: keep only what is not pushed yet,
                // and take the rest again from the snapshot (which has only the customers in scope).
                let wiped = try await store.write { writer in
                    let purges = try writer.purgeCustomersWithoutPendingChanges()
                    var checkpoint = try writer.syncCheckpoint()
                    checkpoint.bootstrapped = false
                    checkpoint.bootstrapPage = nil
                    checkpoint.bootstrapResumeCursor = nil
                    checkpoint.pullCursor = nil
                    try writer.saveCheckpoint(checkpoint)
                    return purges.filter(\.existed).count
                }
                logger.notice("cleared the store before bootstrapping again", metadata: ["customers": "\(wiped)"])
                try await bootstrapIfNeeded(session, &run)
                cursor = try await store.read { try $0.syncCheckpoint() }.pullCursor.flatMap(SyncCursor.init)
                continue
            }
            if page.hasMore, page.items.isEmpty, page.purges.isEmpty, page.nextCursor == cursor {
                throw SyncError.invalidResponse(
                    endpoint: ProtocolSession.Endpoint.pull.rawValue, detail: "has_more without progress past the cursor", requestID: nil)
            }
            let counts = try await store.write { writer in
                var counts = PageCounts()
                // Our own changes come only in the whole state of a customer entering our
                // scopes: they bring back what a purge took.
                counts.changes = page.items.filter { $0.replica != me }.count
                counts.add(try writer.apply(page.items.supported))
                for unsupported in page.items.unsupported where unsupported.replica != me {
                    try writer.park(replica: unsupported.replica, number: unsupported.number, body: unsupported.json.canonicalText)
                    counts.parked += 1
                }
                for notice in page.purges {
                    let report: PurgeReport
                    if notice.reason == .erased, let serverReplica {
                        let stamp = try HybridTimestamp(wallMillis: notice.at.millisecondsSince1970, counter: 0, replica: serverReplica)
                        report = try writer.purgeErased(notice.customer, stamp: stamp)
                    } else {
                        // left_scopes, or a reason from a newer server: handled like left_scopes.
                        report = try writer.purge(notice.customer)
                    }
                    // A customer the store did not hold (it purged it already) is not reported.
                    guard report.existed else { continue }
                    counts.purges.append(
                        PurgedCustomer(
                            customer: notice.customer, reason: notice.reason, existed: report.existed,
                            droppedOutboxChanges: report.droppedOutboxChanges))
                }
                var checkpoint = try writer.syncCheckpoint()
                checkpoint.pullCursor = page.nextCursor.rawValue
                try writer.saveCheckpoint(checkpoint)
                return counts
            }
            run.summary.pulled += counts.changes
            run.summary.applied += counts.applied
            run.summary.parked += counts.parked
            run.summary.purged += counts.purges.count
            run.summary.purges += counts.purges
            for purge in counts.purges {
                logger.notice(
                    "purged a customer", metadata: ["customer": "\(purge.customer)", "reason": "\(purge.reason.rawValue)",
                                                    "dropped_outbox_changes": "\(purge.droppedOutboxChanges)"])
            }
            run.summary.unapplied += counts.unapplied
            counts.logUnapplied(logger)
            run.report(.pull)
            cursor = page.nextCursor
            guard page.hasMore else { break }
        }
    }
}
