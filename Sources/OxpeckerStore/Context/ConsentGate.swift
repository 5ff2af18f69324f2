import GRDB
import OxpeckerProtocol

/// The consent gate's answer to "may I use this customer's data for this purpose now?"
public struct ConsentVerdict: Sendable, Hashable {
    /// Why the answer is what it is.
    public enum Basis: String, Sendable, Hashable {
        /// The customer granted it, and no withdrawal is in force.
        case granted
        /// The customer withdrew it (of concurrent decisions, a withdrawal wins).
        case withdrawn
        /// The customer never decided; the rules allow this purpose until withdrawn.
        case unrecordedAllowed = "unrecorded_allowed"
        /// The customer never decided; the rules need a grant.
        case unrecordedDenied = "unrecorded_denied"
    }

    /// The consent purpose asked about.
    public let purpose: String
    /// Whether the data may be used.
    public let allowed: Bool
    public let basis: Basis
    /// The decision in force, if the customer made one by the time asked.
    public let decision: ConsentEvent?

    /// One sentence for a person.
    public var reason: String {
        switch basis {
        case .granted: "\(purpose) consent granted (\(decision.map { "\($0.at), \($0.source)" } ?? ""))"
        case .withdrawn: "\(purpose) consent withdrawn (\(decision.map { "\($0.at), \($0.source)" } ?? ""))"
        case .unrecordedAllowed: "no \(purpose) decision recorded; allowed until withdrawn"
        case .unrecordedDenied: "no \(purpose) consent recorded; needs a grant"
        }
    }

    /// The records the answer comes from.
    public var sources: [SourceRef] { decision.map { [.consent($0.id)] } ?? [.rule("unrecorded_consent.\(purpose)")] }
}

/// The consent gate, pure: the answer for one purpose from the customer's
/// decisions and the rules. The decisions in force are those of the converged
/// consent state (``ConsentRules``: latest in causal order; of concurrent
/// decisions a withdrawal wins). A grant counts only once its time has come; a
/// withdrawal the store knows counts whatever time it names (fail closed: a
/// withdrawal dated in the future by a typo, or by a device whose clock runs
/// ahead, must not leave an earlier grant in force).
public enum ConsentGate {
    /// The answer for `purpose` given every decision of the customer for it.
    public static func verdict(
        for purpose: String, decisions: [(event: ConsentEvent, observed: [HybridTimestamp])], at time: Instant, rules: ContextRules
    ) -> ConsentVerdict {
        let made = decisions.filter { $0.event.at <= time || $0.event.status != .granted }
        let heads = Set(ConsentRules.heads(of: made.map { ($0.event.hlc, $0.observed) }))
        let decisive = ConsentRules.decisive(
            made.map(\.event).filter { heads.contains($0.hlc) }, isWithdrawal: { $0.status != .granted }, hlc: \.hlc)
        if let decisive {
            // An unknown status from a newer peer counts as a withdrawal: never assume consent.
            let granted = decisive.status == .granted
            return ConsentVerdict(purpose: purpose, allowed: granted, basis: granted ? .granted : .withdrawn, decision: decisive)
        }
        let allowed = rules.unrecordedConsent[purpose] == .allowed
        return ConsentVerdict(purpose: purpose, allowed: allowed, basis: allowed ? .unrecordedAllowed : .unrecordedDenied, decision: nil)
    }
}

extension StoreReader {
    /// May this customer's data be used for `purpose` at `time`? Derived from the
    /// converged consent state: the same answer on every replica that has the same
    /// decisions. Throws ``StoreError/unknownCustomer(_:)``.
    ///
    /// ```swift
    /// let verdict = try reader.mayUse("c-1001", for: .profiling, at: now)
    /// if verdict.allowed { … }
    /// ```
    public func mayUse(_ customer: CustomerID, for purpose: ConsentPurpose, at time: Instant, rules: ContextRules = .standard) throws
        -> ConsentVerdict
    {
        guard try exists(customer) else { throw StoreError.unknownCustomer(customer) }
        return try consentVerdict(customer, purpose: purpose.rawValue, at: time, rules: rules)
    }

    /// The verdict for a customer known to exist.
    func consentVerdict(_ customer: CustomerID, purpose: String, at time: Instant, rules: ContextRules) throws -> ConsentVerdict {
        let decisions = try ConsentReader.events(of: customer, purpose: purpose, in: db).map { ($0.event, $0.observed) }
        return ConsentGate.verdict(for: purpose, decisions: decisions, at: time, rules: rules)
    }

    /// The verdict for every known consent purpose, in declaration order.
    func consentVerdicts(_ customer: CustomerID, at time: Instant, rules: ContextRules) throws -> [ConsentVerdict] {
        let all = Dictionary(grouping: try ConsentReader.events(of: customer, purpose: nil, in: db), by: \.event.purposeName)
        return ConsentPurpose.allCases.map { purpose in
            ConsentGate.verdict(
                for: purpose.rawValue, decisions: (all[purpose.rawValue] ?? []).map { ($0.event, $0.observed) }, at: time, rules: rules)
        }
    }
}

extension CustomerStore {
    /// May this customer's data be used for `purpose` at `time`? One read; see ``StoreReader/mayUse(_:for:at:rules:)``.
    public func mayUse(_ customer: CustomerID, for purpose: ConsentPurpose, at time: Instant, rules: ContextRules = .standard) throws
        -> ConsentVerdict
    {
        try readNow { try $0.mayUse(customer, for: purpose, at: time, rules: rules) }
    }
}
