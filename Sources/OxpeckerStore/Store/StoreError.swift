import OxpeckerProtocol

/// What can go wrong with a customer store, one case per situation a caller can act on.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No store file at the path.
    case storeNotFound(path: String)
    /// A store already exists where a new one was to be created.
    case storeExists(path: String)
    /// The file is not an Oxpecker store (another SQLite database, or not SQLite at all).
    case notAnOxpeckerStore(path: String, reason: String)
    /// The store was written by a newer Oxpecker whose schema this build does not know.
    case schemaTooNew(found: Int, supported: Int)
    /// No customer with this id.
    case unknownCustomer(CustomerID)
    /// A customer with this id exists already.
    case customerExists(CustomerID)
    /// The customer was erased; nothing more may be written about it.
    case customerErased(CustomerID)
    /// No profile field or set with this name.
    case unknownField(String)
    /// A value does not fit its field.
    case invalidValue(field: String, reason: String)
    /// No note with this id for the customer.
    case unknownNote(RecordID)
    /// The note was redacted; it can no longer be revised.
    case noteRedacted(RecordID)
    /// A wire-format value is invalid.
    case invalidInput(ProtocolError)
    /// The store's files could not grow: the disk is full, or a size limit holds
    /// the file. The write that hit it was not saved; everything before it is intact.
    case storageFull(path: String, detail: String)
    /// The database reported an error.
    case database(code: Int32, message: String)
    /// The store is encrypted and was opened without its key.
    case keyRequired(path: String)
    /// The key (or passphrase) given is not the store's.
    case wrongKey(path: String)
    /// A key was given for a store that is not encrypted.
    case notEncrypted(path: String)
    /// A key could not be read or made (a key file readable by others, a malformed key).
    case keyUnusable(reason: String)

    public var description: String {
        switch self {
        case .storeNotFound(let path):
            "no Oxpecker store at '\(path)' (create one with `oxpecker init`)"
        case .storeExists(let path):
            "an Oxpecker store already exists at '\(path)'"
        case .notAnOxpeckerStore(let path, let reason):
            "'\(path)' is not an Oxpecker store: \(reason)"
        case .schemaTooNew(let found, let supported):
            "the store has schema version \(found), but this Oxpecker supports up to \(supported): upgrade Oxpecker"
        case .unknownCustomer(let id):
            "unknown customer '\(id)'"
        case .customerExists(let id):
            "customer '\(id)' already exists"
        case .customerErased(let id):
            "customer '\(id)' was erased; nothing more can be recorded about it"
        case .unknownField(let name):
            "unknown field '\(name)' (`oxpecker fields` lists them)"
        case .invalidValue(let field, let reason):
            "invalid value for \(field): \(reason)"
        case .unknownNote(let id):
            "unknown note '\(id)'"
        case .noteRedacted(let id):
            "note '\(id)' was redacted and cannot be revised"
        case .invalidInput(let error):
            error.description
        case .storageFull(let path, let detail):
            "no room to write '\(path)': the disk is full or the file may not grow (\(detail)); this write was not saved, nothing before it is lost"
        case .database(let code, let message):
            "database error \(code): \(message)"
        case .keyRequired(let path):
            "'\(path)' is an encrypted store: give its key (--key-file, $\(StoreKey.environmentVariable) or $\(StoreKey.passphraseVariable))"
        case .wrongKey(let path):
            "the key given is not the key of '\(path)': nothing was read or written"
        case .notEncrypted(let path):
            "'\(path)' is not an encrypted store, but a key was given: open it without one"
        case .keyUnusable(let reason):
            "unusable store key: \(reason)"
        }
    }
}
