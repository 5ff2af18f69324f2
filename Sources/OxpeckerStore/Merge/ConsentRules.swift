import OxpeckerProtocol

/// The consent rule, pure: the decisions in force are the heads of a
/// ``CausalRegister`` (decisions no later decision has superseded); of those,
/// a withdrawal wins over a grant. A decision recorded on a device names the
/// decisions in force there, so "latest" means latest in causal order, and a
/// grant made concurrently with a withdrawal elsewhere never overrides it.
public enum ConsentRules {
    /// The decisions no other decision supersedes.
    public static func heads(of events: [(hlc: HybridTimestamp, observed: [HybridTimestamp])]) -> [HybridTimestamp] {
        CausalRegister(events.map { CausalWrite(hlc: $0.hlc, value: .null, observed: $0.observed) }).headStamps
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
