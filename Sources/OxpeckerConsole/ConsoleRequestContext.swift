import Hummingbird

/// The request context of every console route: Hummingbird's core context, the
/// session ``SessionMiddleware`` found for the request's cookie, and, for a POST,
/// the form it read and whose CSRF token it checked.
public struct ConsoleRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The browser's session; set on every request that reaches a route.
    public var session: ConsoleSession?
    /// The fields of a POST form, its CSRF token checked; empty for a GET.
    public var form: FormFields

    public init(source: Source) {
        coreContext = .init(source: source)
        session = nil
        form = FormFields()
    }

    /// The CSRF token to put in this request's page forms.
    var csrfToken: String { session?.csrfToken.text ?? "" }
}
