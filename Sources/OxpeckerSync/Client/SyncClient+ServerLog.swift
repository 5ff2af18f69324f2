import OxpeckerProtocol
import OxpeckerStore

extension SyncClient {
    /// Compares the server replica of the hello with the one this store synced with.
    ///
    /// A server restored from a backup (`oxpecker-server restore`, or `renew-identity` after
    /// `pg_restore`) answers with a new replica id: its log ends where the backup was taken,
    /// so it lacks what this store pushed after that, and its answers past that point
    /// are numbered again. Before anything is pushed, in one transaction, the store then
    /// puts every change the server acknowledged back in the outbox (the oldest numbers come
    /// first, so they are pushed again in the order they were made, before the newer ones:
    /// a customer this store created is created again before its later changes arrive),
    /// keeps only the customers with changes to push, and bootstraps again. The changes the
    /// restored server still has are answered `duplicate`.
    ///
    /// A store that never recorded a server replica (new, or synced before this version)
    /// records this one and goes on.
    func recoverIfServerLogChanged(_ hello: HelloResponse, _ run: inout SyncRun) async throws {
        let serverReplica = hello.serverReplica
        let recovered = try await store.write { writer -> (resent: Int, purged: Int)? in
            var checkpoint = try writer.syncCheckpoint()
            let known = checkpoint.serverReplica
            guard known != serverReplica else { return nil }
            checkpoint.serverReplica = serverReplica
            guard known != nil, checkpoint.bootstrapped || checkpoint.bootstrapPage != nil else {
                try writer.saveCheckpoint(checkpoint)
                return nil
            }
            let resent = try writer.requeuePushedChanges()
            let purged = try writer.purgeCustomersWithoutPendingChanges().filter(\.existed).count
            checkpoint.bootstrapped = false
            checkpoint.bootstrapPage = nil
            checkpoint.bootstrapResumeCursor = nil
            checkpoint.pullCursor = nil
            try writer.saveCheckpoint(checkpoint)
            return (resent, purged)
        }
        guard let recovered else { return }
        run.summary.serverLogChanged = true
        run.summary.resent = recovered.resent
        logger.notice(
            "the server's log is not the one this store synced with (restored from a backup?): pushing again what it acknowledged, then bootstrapping again",
            metadata: ["server_replica": "\(serverReplica)", "resent": "\(recovered.resent)", "cleared_customers": "\(recovered.purged)"])
    }
}
