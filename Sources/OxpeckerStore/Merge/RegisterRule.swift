import OxpeckerProtocol

/// The register rule, pure: of two writes to one field, the one with the later
/// hybrid timestamp wins. Timestamps never tie (the replica id orders them), so
/// the result does not depend on the order writes arrive in.
public enum RegisterRule {
    /// The write that stays: `incoming` if it is later than `current`, else `current`.
    public static func merge(current: StampedValue?, incoming: StampedValue) -> StampedValue {
        guard let current else { return incoming }
        return incoming.hlc > current.hlc ? incoming : current
    }
}
