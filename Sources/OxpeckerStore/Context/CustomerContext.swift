import OxpeckerProtocol

/// Everything the brief and the signals read about one customer, read in one
/// snapshot: the profile, the latest notes and contacts, and the consent gate's
/// verdict for every purpose at the time asked. A bank's model
/// (``CustomerInsightModel``) receives this too.
public struct CustomerContext: Sendable, Hashable {
    public let profile: CustomerProfile
    /// The latest notes, newest first (at most ``noteLimit``).
    public let notes: [Note]
    /// The latest contacts, newest first (at most ``contactLimit``).
    public let contacts: [ContactRecord]
    /// The consent verdict for every ``ConsentPurpose``, at the time asked.
    public let consents: [ConsentVerdict]

    /// How many of the latest notes are read.
    public static let noteLimit = 200
    /// How many of the latest contacts are read.
    public static let contactLimit = 500

    public var id: CustomerID { profile.id }

    /// The consent gate's verdict for `purpose`.
    public func verdict(for purpose: ConsentPurpose) -> ConsentVerdict? {
        consents.first { $0.purpose == purpose.rawValue }
    }

    /// Whether the customer's data may be used for `purpose` (false if unknown).
    public func mayUse(_ purpose: ConsentPurpose) -> Bool {
        verdict(for: purpose)?.allowed ?? false
    }

    /// Notes that are conversations with a person (by the rules' channels), newest first,
    /// made by `time`.
    func conversations(by time: Instant, rules: ContextRules) -> [Note] {
        notes.filter { note in note.at <= time && rules.conversationChannels.contains(note.channel?.rawValue ?? "") }
    }
}

extension StoreReader {
    /// The context of one customer as of `time`; throws ``StoreError/unknownCustomer(_:)``.
    public func context(of customer: CustomerID, at time: Instant, rules: ContextRules = .standard) throws -> CustomerContext {
        let profile = try profile(of: customer)
        return CustomerContext(
            profile: profile, notes: try notes(of: customer, limit: CustomerContext.noteLimit),
            contacts: try contacts(of: customer, limit: CustomerContext.contactLimit),
            consents: try consentVerdicts(customer, at: time, rules: rules))
    }
}
