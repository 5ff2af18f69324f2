import GRDB

/// Keeps the data keys a write transaction made in the key store kept apart just
/// before the transaction commits, on every connection of a store whose keys live
/// there: whatever path wrote, no value is committed sealed under a key that is not
/// durably kept. A key store that fails to keep them fails the commit (rolled back).
final class PendingKeysObserver: TransactionObserver, Sendable {
    let ring: KeyRing

    init(ring: KeyRing) { self.ring = ring }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { false }
    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseWillCommit() throws { try ring.storePendingKeys() }
    func databaseDidCommit(_ db: Database) {}
    func databaseDidRollback(_ db: Database) { ring.forgetAll() }
}
