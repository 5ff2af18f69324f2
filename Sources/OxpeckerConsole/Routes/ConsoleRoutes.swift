import HTTPTypes
import Hummingbird
import OxpeckerProtocol
import OxpeckerStore

/// The console's pages and forms over one open store. Every write goes through
/// ``CustomerStore/write(_:)`` and the same ``StoreWriter`` calls as the CLI, so it
/// lands in the outbox and syncs like the CLI's; a refused write shows the store's
/// message on the page and changes nothing (one transaction, rolled back).
struct ConsoleRoutes: Sendable {
    let store: CustomerStore
    let configuration: ConsoleConfiguration
    let renderer: PageRenderer
    let syncState = ConsoleSyncState()

    func register(on router: Router<ConsoleRequestContext>) {
        router.get("/", use: home)
        router.get("/customers/:id", use: customerPage)
        router.post("/customers/:id/notes", use: addNote)
        router.post("/customers/:id/notes/:note/edit", use: editNote)
        router.post("/customers/:id/notes/:note/redact", use: redactNote)
        router.post("/customers/:id/life-events", use: recordLifeEvent)
        router.post("/customers/:id/contacts", use: recordContact)
        router.post("/customers/:id/consents", use: recordConsent)
        router.get("/conflicts", use: conflictsPage)
        router.post("/customers/:id/conflicts/:field", use: resolveConflict)
        router.get("/signals", use: signalsPage)
        router.get("/sync", use: syncPage)
        router.post("/sync", use: sync)
    }

    /// The time the pages answer for.
    var now: Instant { Instant(millisecondsSince1970: configuration.clock.now()) }

    /// The query string's fields (percent-decoded UTF-8).
    static func query(of request: Request) -> FormFields {
        FormFields(urlEncoded: request.uri.query ?? "") ?? FormFields()
    }

    /// A 303 to `location`, the answer to a write that succeeded (so a reload does not repeat it).
    static func seeOther(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    /// The status and the message a person sees for an error of bad input or of the store, or nil for any other error.
    static func explanation(of error: any Error) -> (status: HTTPResponse.Status, message: String)? {
        switch error {
        case let error as ConsoleInputError: return (.badRequest, error.description)
        case let error as ProtocolError: return (.badRequest, error.description)
        case let error as StoreError:
            switch error {
            case .unknownCustomer, .unknownNote: return (.notFound, error.description)
            case .customerErased, .noteRedacted, .customerExists: return (.conflict, error.description)
            case .unknownField, .invalidValue, .invalidInput: return (.badRequest, error.description)
            case .storageFull: return (HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage"), error.description)
            case .storeNotFound, .storeExists, .notAnOxpeckerStore, .schemaTooNew, .database, .keyRequired, .wrongKey, .notEncrypted,
                .keyUnusable:
                return (.internalServerError, error.description)
            }
        default: return nil
        }
    }

    /// The customer id of the route's `:id`, or the reason it is not one.
    static func customerID(_ context: ConsoleRequestContext) throws -> CustomerID {
        try FormInput.customer(context.parameters.get("id") ?? "")
    }

    /// A refusal page for `error` if it is bad input or a store error; rethrows any other.
    func refusal(for error: any Error, title: String) throws -> Response {
        guard let explanation = Self.explanation(of: error) else { throw error }
        return renderer.refusal(status: explanation.status, title: title, message: explanation.message)
    }
}
