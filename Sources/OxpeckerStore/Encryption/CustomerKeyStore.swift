import Crypto

/// Where the data keys of an encrypted store's customers live when they are
/// kept apart from the store: the sync server keeps them in a key store of
/// their own (``KeyStoreFile``), never in the data's file or its backups, so
/// that destroying one key (an erasure) makes every copy of that customer's
/// sealed values unreadable, backups included.
///
/// A key provider of another kind (a bank's KMS) conforms to this protocol.
/// The store asks for a key when it opens or seals a customer's value; new
/// keys are made by the store and handed to ``store(_:)`` once per write
/// transaction, before the transaction commits: a value is never committed
/// sealed under a key that is not durably kept.
public protocol CustomerKeyStore: Sendable {
    /// The data key of `customer`, whether it never had one, or whether its key was destroyed.
    func key(of customer: String) throws -> CustomerKeyLookup
    /// Keeps new data keys, durably before it returns. A customer whose key was
    /// destroyed never gets one again: the call then throws.
    func store(_ keys: [String: SymmetricKey]) throws
    /// Destroys the key of `customer` for good (an erasure), remembering that it did.
    func destroyKey(of customer: String) throws
    /// The customers whose keys were destroyed.
    func destroyedCustomers() throws -> [String]
}

/// What a ``CustomerKeyStore`` holds for one customer.
public enum CustomerKeyLookup: Sendable {
    case found(SymmetricKey)
    /// No key yet: the store makes one when it first seals a value of the customer.
    case missing
    /// Destroyed by an erasure: what was sealed under it is gone for good.
    case destroyed
}
