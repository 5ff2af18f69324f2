import OxpeckerProtocol

/// What merging one remote change did.
public enum ApplyOutcome: Sendable, Hashable {
    /// The change was new and is now part of the state.
    case applied
    /// The change was known already, older than the state, or about an erased
    /// customer: the state is as it was (this is how duplicates and reordered
    /// deliveries become harmless).
    case unchanged
    /// The change is invalid or of a kind this build does not know; the reason says which.
    case rejected(String)
}
