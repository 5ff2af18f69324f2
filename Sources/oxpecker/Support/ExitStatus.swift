import OxpeckerProtocol
import OxpeckerStore
import OxpeckerSync

/// The exit statuses of `oxpecker`, as documented in `oxpecker --help`.
enum ExitStatus: Int32 {
    case success = 0
    case failure = 1
    case usage = 2
    case notFound = 3
    case invalidInput = 4
    case storeProblem = 5
    case refused = 6
    /// `oxpecker sync`: the server could not be reached within the retry budget, or refused the sync.
    case syncFailed = 7
    /// `oxpecker may-contact`: the contact gate says no (a scriptable answer, not a failure).
    case mayNotContact = 8
    /// An encrypted store without its key or with a wrong one; a key for a plain store; an unusable key.
    case keyProblem = 9
}

/// A mistake the command line itself detects, before or besides the store.
struct InputError: Error, CustomStringConvertible {
    let status: ExitStatus
    let description: String

    /// An invalid value typed by a person (exit status 4).
    static func invalid(_ message: String) -> InputError { InputError(status: .invalidInput, description: message) }
    /// Options that do not go together (exit status 2).
    static func usage(_ message: String) -> InputError { InputError(status: .usage, description: message) }
    /// Something named that does not exist (exit status 3).
    static func notFound(_ message: String) -> InputError { InputError(status: .notFound, description: message) }
}

/// What a failed command prints and the status it exits with.
struct CommandFailure {
    let code: ExitStatus
    let message: String

    /// The failure for a known error, or nil for errors the argument parser reports itself.
    init?(_ error: any Error) {
        switch error {
        case let error as StoreError:
            self.init(code: Self.status(of: error), message: "error: \(error.description)")
        case let error as ProtocolError:
            self.init(code: .invalidInput, message: "error: \(error.description)")
        case let error as InputError:
            self.init(code: error.status, message: "error: \(error.description)")
        case let error as SyncError:
            self.init(code: Self.status(of: error), message: "error: \(error.description)")
        case let error as OutputError:
            self.init(code: .failure, message: "error: \(error.description)")
        default:
            return nil
        }
    }

    private init(code: ExitStatus, message: String) {
        self.code = code
        self.message = message
    }

    /// The exit status for each sync error: a URL typed wrong is invalid input, the rest a failed sync.
    static func status(of error: SyncError) -> ExitStatus {
        switch error {
        case .invalidServer, .invalidCertificateAuthority: .invalidInput
        case .refused, .unreachable, .invalidResponse, .incompatibleServer, .changeTooLarge, .tlsFailed: .syncFailed
        }
    }

    /// The exit status for each store error.
    static func status(of error: StoreError) -> ExitStatus {
        switch error {
        case .unknownCustomer, .unknownNote: .notFound
        case .unknownField, .invalidValue, .invalidInput: .invalidInput
        case .customerExists, .customerErased, .noteRedacted: .refused
        case .storeNotFound, .storeExists, .notAnOxpeckerStore, .schemaTooNew, .storageFull, .database: .storeProblem
        case .keyRequired, .wrongKey, .notEncrypted, .keyUnusable: .keyProblem
        }
    }
}
