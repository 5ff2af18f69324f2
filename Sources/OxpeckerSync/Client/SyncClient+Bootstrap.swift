import Logging
import OxpeckerProtocol
import OxpeckerStore

extension SyncClient {
    /// Fetches the snapshot of a store that never completed a bootstrap, one page
    /// at a time: each page's customers and the token of the next page are
    /// committed in one transaction, so an interrupted bootstrap resumes from
    /// the stored page. The last page stores `resume_cursor` as the pull cursor.
    func bootstrapIfNeeded(_ session: ProtocolSession, _ run: inout SyncRun) async throws {
        let checkpoint = try await store.read { try $0.syncCheckpoint() }
        guard !checkpoint.bootstrapped else { return }
        var page = checkpoint.bootstrapPage.flatMap(SyncCursor.init)
        if page != nil { logger.info("resuming an interrupted bootstrap", metadata: ["page": "\(page?.rawValue ?? "")"]) }
        let limit = max(1, min(configuration.bootstrapPageSize, session.serverLimits.maximumCustomersPerPage))
        var restarted = false
        let server = configuration.server
        while true {
            let answer: BootstrapPage
            do {
                answer = try await session.send(BootstrapRequest(page: page, limit: limit, replica: store.replica), to: .bootstrap, expecting: BootstrapPage.self)
            } catch SyncError.refused(let refusal) where refusal.code == .cursorExpired && page != nil && !restarted {
                // The stored page belongs to a snapshot the server no longer has: start a new one, from a
                // cleared store as after a pull's cursor_expired. The new snapshot's subscription holds none of
                // what the old pages stored, so a customer among them that left the scopes since would stay
                // here for good, never purged; keep only what is not pushed yet.
                logger.notice("the server no longer has the interrupted snapshot; starting the bootstrap again")
                let wiped = try await store.write { writer in
                    let purges = try writer.purgeCustomersWithoutPendingChanges()
                    var checkpoint = try writer.syncCheckpoint()
                    checkpoint.bootstrapPage = nil
                    checkpoint.bootstrapResumeCursor = nil
                    try writer.saveCheckpoint(checkpoint)
                    return purges.filter(\.existed).count
                }
                logger.notice("cleared the store before bootstrapping again", metadata: ["customers": "\(wiped)"])
                page = nil
                restarted = true
                continue
            }
            let counts = try await store.write { writer in
                var counts = PageCounts()
                // The whole page is one merge: its customers' state is read with a few queries, not a few per customer.
                counts.add(try writer.apply(answer.customers.flatMap(\.changes)))
                for customer in answer.customers {
                    counts.customers += 1
                    counts.changes += customer.entryCount
                    for unsupported in customer.unsupported {
                        try writer.park(replica: unsupported.replica, number: unsupported.number, body: unsupported.json.canonicalText)
                        counts.parked += 1
                    }
                }
                var checkpoint = try writer.syncCheckpoint()
                checkpoint.server = server
                if let next = answer.nextPage {
                    checkpoint.bootstrapPage = next.rawValue
                    checkpoint.bootstrapResumeCursor = answer.resumeCursor.rawValue
                } else {
                    checkpoint.bootstrapPage = nil
                    checkpoint.bootstrapResumeCursor = nil
                    checkpoint.bootstrapped = true
                    checkpoint.pullCursor = answer.resumeCursor.rawValue
                }
                try writer.saveCheckpoint(checkpoint)
                return counts
            }
            run.summary.bootstrappedCustomers += counts.customers
            run.summary.bootstrappedChanges += counts.changes
            run.summary.parked += counts.parked
            run.summary.unapplied += counts.unapplied
            counts.logUnapplied(logger)
            run.report(.bootstrap)
            guard let next = answer.nextPage else { break }
            guard next != page else {
                throw SyncError.invalidResponse(
                    endpoint: ProtocolSession.Endpoint.bootstrap.rawValue, detail: "next_page repeats the requested page", requestID: nil)
            }
            page = next
        }
        logger.info("bootstrap complete", metadata: ["customers": "\(run.summary.bootstrappedCustomers)"])
    }
}

/// What storing one page did.
struct PageCounts: Sendable {
    var customers = 0
    var changes = 0
    var applied = 0
    var parked = 0
    var unapplied = 0
    var purges: [PurgedCustomer] = []
    /// The first few reasons a change could not be applied, for the log.
    var unappliedReasons: [String] = []

    mutating func add(_ outcomes: [ApplyOutcome]) {
        for outcome in outcomes {
            switch outcome {
            case .applied:
                applied += 1
            case .unchanged:
                break
            case .rejected(let reason):
                unapplied += 1
                if unappliedReasons.count < 5 { unappliedReasons.append(reason) }
            }
        }
    }

    func logUnapplied(_ logger: Logger) {
        guard unapplied > 0 else { return }
        logger.warning(
            "received changes this store cannot apply",
            metadata: ["count": "\(unapplied)", "reasons": "\(unappliedReasons.joined(separator: "; "))"])
    }
}
