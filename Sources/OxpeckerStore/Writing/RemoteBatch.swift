import GRDB
import OxpeckerProtocol

/// Remote changes merged one at a time, in the caller's order, each only if the
/// caller decides to. ``StoreWriter/apply(_:)`` (a pull or bootstrap page) merges
/// every change of its batch; the SQLite server's push judges every change against
/// its customer's state as the push's earlier changes left it, and merges those it takes.
///
/// The batch reads the state its changes touch
/// with one query per table (``StateSlices``) when it begins, merges in memory
/// by ``CustomerState``, and writes only what changed, once, in ``store()``.
/// Nothing reaches the state tables before then: until it is stored, ask the
/// batch (``state(of:)``), not the database, what a customer's state is.
///
/// ```swift
/// var batch = try writer.batch(of: changes, alsoReading: [.scopes])
/// if batch.state(of: changes[0].customer).isPresent { _ = batch.merge(at: 0) }
/// try batch.store()
/// ```
@_spi(OxpeckerServer)
public struct RemoteBatch: ~Copyable {
    private let writer: StoreWriter
    private let changes: [Change]
    private let checked: [Result<ValidatedChange, ValidatedChange.Rejection>]
    /// Every customer of the batch, in the order they first appear (the order they are stored in).
    private let customers: [CustomerID]
    private var states: [String: CustomerState]
    private var deltas: [String: StateDelta] = [:]

    init(_ changes: [Change], alsoReading sets: [ProfileSet], writer: StoreWriter) throws {
        var keys = StateKeys()
        keys.setFields.formUnion(sets.map(\.name))
        let checked = changes.map { change in
            let result = ValidatedChange.check(change)
            // An invalid change's customer is read too: its state says how to judge the change before the merge rejects it.
            keys.include(change.customer)
            if case .success(let validated) = result { keys.add(validated, of: change.customer) }
            return result
        }
        self.writer = writer
        self.changes = changes
        self.checked = checked
        customers = keys.customers
        states = keys.customers.isEmpty ? [:] : try StateSlices.load(keys, known: writer.knownCustomers, in: writer.db)
    }

    /// The state of `customer`, one of the batch's, as the changes merged so far left it.
    public func state(of customer: CustomerID) -> CustomerState {
        states[customer.rawValue] ?? CustomerState(customer: customer)
    }

    /// Whether `note`, named by one of the batch's valid changes (a note, a revision or a
    /// redaction of it), is redacted: stored before the batch, or merged so far. Its
    /// redaction is read with the state of the first customer whose change names it,
    /// and merged into the state of the customer whose change carries it.
    public func isRedacted(_ note: String) -> Bool {
        states.values.contains { $0.redactions[note] != nil }
    }

    /// Merges the batch's change at `index` by its rule, as ``StoreWriter/apply(_:)`` would;
    /// the clock observes the changes merged, not those the caller leaves out.
    public mutating func merge(at index: Int) -> ApplyOutcome {
        let change = changes[index]
        switch checked[index] {
        case .failure(let rejection):
            return .rejected(rejection.reason)
        case .success(let validated):
            writer.observe(change.hlc)
            let id = change.customer.rawValue
            return states[id, default: CustomerState(customer: change.customer)]
                .merge(change, as: validated, into: &deltas[id, default: StateDelta()])
        }
    }

    /// Writes what the merges changed, customer by customer; the batch is then spent.
    public consuming func store() throws {
        var touchedNotes: [String] = []
        for customer in customers {
            guard let delta = deltas[customer.rawValue], let state = states[customer.rawValue] else { continue }
            try writer.store(delta, of: state, touchedNotes: &touchedNotes)
        }
        // Each note's search document once for the batch, from its latest text.
        for note in Set(touchedNotes).sorted() { try SearchIndex.reindexNote(RecordID(unchecked: note), in: writer.db) }
    }
}

extension StoreWriter {
    /// Begins merging `changes` one at a time (``RemoteBatch``), reading the state
    /// they touch and, for each of their customers, the sets `alsoReading`.
    @_spi(OxpeckerServer)
    public func batch(of changes: [Change], alsoReading sets: [ProfileSet] = []) throws -> RemoteBatch {
        try RemoteBatch(changes, alsoReading: sets, writer: self)
    }
}
