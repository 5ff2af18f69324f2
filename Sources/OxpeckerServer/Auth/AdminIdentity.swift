/// The administrator a request comes from, as its admin token says; recorded
/// as the actor of what the request changes.
public struct AdminIdentity: Sendable, Hashable {
    /// The admin token's id (`adm-…`, not the secret): the actor recorded in the audit trail.
    public let tokenID: String
    /// The name given when the token was made, like `ops-oncall`.
    public let name: String

    public init(tokenID: String, name: String) {
        self.tokenID = tokenID
        self.name = name
    }
}
