import OxpeckerProtocol
import OxpeckerStore

/// How a bootstrap page writes a customer of the snapshot, in the form of the
/// client's protocol version. Both backends hand over the same thing (a
/// customer's logged changes that still matter, ``SnapshotCustomer``), so the
/// form is decided once, here.
enum SnapshotForm {
    /// The first version whose pages carry each customer's merged state.
    static let stateVersion = 3

    /// Versions 1 and 2: the stored changes, spliced (they are canonical already).
    static func changesJSON(of customer: SnapshotCustomer) -> String {
        "{\"changes\":[" + customer.changes.joined(separator: ",") + "],\"customer\":"
            + JSONValue.string(customer.customer.rawValue).canonicalText + ",\"scopes\":"
            + JSONValue.array(customer.scopes.map { .string($0) }).canonicalText + "}"
    }

    /// Version 3: the changes merged by the merge engine into the customer's state
    /// (``CustomerState``), written as ``SnapshotState``.
    static func stateJSON(of customer: SnapshotCustomer, codec: WireCodec) throws -> String {
        let object: JSONValue = [
            "customer": .string(customer.customer.rawValue), "scopes": .array(customer.scopes.map { .string($0) }),
            "state": try state(of: customer, codec: codec).wireJSON,
        ]
        return object.canonicalText
    }

    /// The merged state of a customer's logged changes. The log holds only changes
    /// this build understands (a push of any other kind is refused).
    static func state(of customer: SnapshotCustomer, codec: WireCodec) throws -> SnapshotState {
        var state = CustomerState(customer: customer.customer)
        _ = state.merge(try customer.changes.map { try codec.decode(Change.self, from: $0) })
        return state.snapshot
    }
}
