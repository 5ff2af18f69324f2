import OxpeckerProtocol

/// A write that names the writes it knowingly replaces (its causal context).
public struct CausalWrite: Sendable, Hashable {
    public let hlc: HybridTimestamp
    public let value: JSONValue
    /// The writes this one supersedes.
    public let observed: [HybridTimestamp]

    public init(hlc: HybridTimestamp, value: JSONValue, observed: [HybridTimestamp]) {
        self.hlc = hlc
        self.value = value
        self.observed = observed
    }
}

/// A register that keeps concurrent writes instead of silently dropping one:
/// the state is the set of writes no other write supersedes (the heads).
///
/// Used by the guarded register (more than one head is a conflict for a person
/// to resolve; resolving is a write that observes every head) and by consent
/// (of concurrent decisions a withdrawal wins). The heads depend only on the
/// set of writes merged, never on their order or repetition, so the rule is
/// commutative, associative and idempotent.
///
/// ```swift
/// var register = CausalRegister()
/// register.merge(write)
/// register.heads      // one write, or several concurrent ones
/// ```
public struct CausalRegister: Sendable, Hashable {
    /// The writes no known write supersedes, sorted by timestamp.
    public private(set) var heads: [CausalWrite] = []
    /// Every timestamp some known write names as superseded.
    public private(set) var superseded: Set<HybridTimestamp> = []

    public init() {}

    /// A register holding the given writes.
    public init(_ writes: some Sequence<CausalWrite>) {
        for write in writes { merge(write) }
    }

    /// Takes in one write.
    public mutating func merge(_ write: CausalWrite) {
        superseded.formUnion(write.observed)
        if !superseded.contains(write.hlc), !heads.contains(where: { $0.hlc == write.hlc }) {
            heads.append(write)
        }
        heads = heads.filter { !superseded.contains($0.hlc) }.sorted { $0.hlc < $1.hlc }
    }

    /// Takes in every write of another register.
    public mutating func merge(_ other: CausalRegister) {
        superseded.formUnion(other.superseded)
        for write in other.heads { merge(write) }
    }

    /// The write shown as the value: the latest head.
    public var latest: CausalWrite? { heads.last }

    /// Whether concurrent writes wait for a person to choose.
    public var isConflict: Bool { heads.count > 1 }

    /// The timestamps a new local write must name to supersede everything known.
    public var headStamps: [HybridTimestamp] { heads.map(\.hlc) }
}
