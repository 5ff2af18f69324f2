import OxpeckerProtocol

/// The consent merge rule, pure: the decisions in force are those no other
/// decision has superseded (named in its `observed`); of those, a withdrawal
/// wins over a grant. Depends only on the set of decisions, so it is
/// commutative, associative and idempotent.
public enum ConsentRules {
    /// The decisions no other decision supersedes.
    public static func heads(of events: [(hlc: HybridTimestamp, observed: [HybridTimestamp])]) -> [HybridTimestamp] {
        let superseded = Set(events.flatMap(\.observed))
        return events.map(\.hlc).filter { !superseded.contains($0) }.sorted()
    }

    /// The decision in force among `heads`: the latest withdrawal if any, else the latest grant.
    public static func decisive<Event>(
        _ heads: [Event], isWithdrawal: (Event) -> Bool, hlc: (Event) -> HybridTimestamp
    ) -> Event? {
        let withdrawals = heads.filter(isWithdrawal)
        let candidates = withdrawals.isEmpty ? heads : withdrawals
        return candidates.max { hlc($0) < hlc($1) }
    }
}
