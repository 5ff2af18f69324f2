import Foundation
import OxpeckerProtocol

/// Every rule of the customer-context features — the brief, the contact gate,
/// the signals and the consent gate — as data: thresholds, what each contact
/// purpose needs, and what each life event usually means.
///
/// The defaults are declared once, in ``standard`` (`ContextRules+Standard.swift`).
/// A bank changes them without a rebuild by a JSON document that names only what
/// it changes (``overriding(with:)``, `oxpecker --rules FILE`); `oxpecker rules`
/// prints the rules in force in that same form.
///
/// ```swift
/// let rules = try ContextRules.standard.overriding(with: JSONValue(parsing: #"{"dismissal_quiet_days": 60}"#))
/// let answer = try store.mayContact("c-1001", on: .sms, for: "marketing", at: now, rules: rules)
/// ```
///
/// Days are whole days of 24 hours; no value is a floating-point number.
public struct ContextRules: Sendable, Hashable, Codable {
    /// What a contact purpose needs and how it is treated by the contact gate.
    public struct Purpose: Sendable, Hashable, Codable {
        /// The consent the customer must have given (a ``ConsentPurpose`` name), or nil if none is needed.
        public var consent: String?
        /// Whether the contact is an offer: never during a care period or a complaint in progress.
        public var offer: Bool
        /// Whether the contact is urgent (fraud, security): quiet hours, the budget and
        /// earlier dismissals do not hold it back, and it does not count toward the budget.
        /// Do-not-contact and consent still hold.
        public var urgent: Bool

        public init(consent: String?, offer: Bool, urgent: Bool = false) {
            self.consent = consent
            self.offer = offer
            self.urgent = urgent
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(consent, forKey: .consent)  // null when none is needed
            try container.encode(offer, forKey: .offer)
            try container.encode(urgent, forKey: .urgent)
        }
    }

    /// What a life event usually means for what the customer needs.
    public struct LifeEventMeaning: Sendable, Hashable, Codable {
        /// The needs it points to, like `liquidity` or `income_planning`.
        public var needs: [String]
        /// What not to propose, like `investment offers`.
        public var avoid: [String]
        /// One sentence for a person.
        public var meaning: String
        /// What to do next, for a person.
        public var nextStep: String
        /// Days after the event during which no offer is made (handle with care); 0 for none.
        public var careDays: Int

        public init(needs: [String], avoid: [String] = [], meaning: String, nextStep: String, careDays: Int = 0) {
            self.needs = needs
            self.avoid = avoid
            self.meaning = meaning
            self.nextStep = nextStep
            self.careDays = careDays
        }

        enum CodingKeys: String, CodingKey {
            case needs, avoid, meaning
            case nextStep = "next_step"
            case careDays = "care_days"
        }
    }

    /// A recurring pain in the contact log and the fix to suggest for it, once.
    public struct RecurringPain: Sendable, Hashable, Codable {
        /// Words that mark a contact's topic as this pain (case-insensitive), like `late fee`.
        public var matches: [String]
        /// The fix to suggest, for a person.
        public var suggestion: String
        /// A contact whose topic contains this (case-insensitive) means the fix was offered already.
        public var fixTopic: String

        public init(matches: [String], suggestion: String, fixTopic: String) {
            self.matches = matches
            self.suggestion = suggestion
            self.fixTopic = fixTopic
        }

        enum CodingKeys: String, CodingKey {
            case matches, suggestion
            case fixTopic = "fix_topic"
        }
    }

    /// A consent purpose's answer when the customer never decided.
    public enum Unrecorded: String, Sendable, Hashable, Codable {
        /// Allowed until withdrawn (the bank relies on another legal basis).
        case allowed
        /// Refused until granted (opt-in).
        case denied
    }

    // MARK: Consent gate

    /// Per consent purpose, the answer when the customer never decided; a purpose
    /// not listed is ``Unrecorded/denied``.
    public var unrecordedConsent: [String: Unrecorded]

    // MARK: Contact gate

    /// Every purpose a proactive contact may have, by name; any other is refused as invalid input.
    public var purposes: [String: Purpose]
    /// The budget of a customer who has none, like `4/month`; nil for no limit.
    public var defaultBudget: String?
    /// The quiet hours of a customer who has none, like `21:00-08:00 Europe/Prague`; nil for none.
    public var defaultQuietHours: String?
    /// Whether a channel the customer did not list as preferred is refused (true) or only noted (false).
    public var onlyPreferredChannels: Bool
    /// Days after a dismissed or declined contact during which the same topic is not raised again.
    public var dismissalQuietDays: Int
    /// Days after a complaint during which it is in progress, unless a later note is positive.
    public var complaintOpenDays: Int

    // MARK: Brief

    /// Days a life event counts as recent.
    public var lifeEventRecentDays: Int
    /// Days a complaint or negative conversation is shown in the brief.
    public var complaintRecentDays: Int
    /// How many of the latest conversations decide the advisor who knows the customer.
    public var continuityConversations: Int
    /// Note channels that are conversations with a person.
    public var conversationChannels: [String]

    // MARK: Signals

    /// A customer is going quiet when the time since their last activity exceeds
    /// this many times their own typical (median) gap between activities.
    public var quietFactor: Int
    /// The fewest activities (conversations and answered contacts) that make a rhythm.
    public var quietMinimumActivities: Int
    /// The shortest silence, in days, that can count as going quiet, whatever the rhythm.
    public var quietMinimumDays: Int
    /// How many contacts on one pain within ``recurringPainDays`` make it recurring.
    public var recurringPainCount: Int
    /// The window, in days, in which recurring pain is counted.
    public var recurringPainDays: Int
    /// The pains to look for, and their fixes.
    public var recurringPains: [RecurringPain]
    /// Different advisors in a row, in the latest conversations, that break continuity.
    public var continuityBreak: Int
    /// The purpose of the contact a signal's next step proposes (asked of the gate).
    public var signalPurpose: String
    /// The channel of that contact when the customer has no preferred channel.
    public var signalChannel: String

    // MARK: Life events

    /// What each life event type usually means, by type name.
    public var lifeEvents: [String: LifeEventMeaning]

    enum CodingKeys: String, CodingKey {
        case unrecordedConsent = "unrecorded_consent"
        case purposes
        case defaultBudget = "default_budget"
        case defaultQuietHours = "default_quiet_hours"
        case onlyPreferredChannels = "only_preferred_channels"
        case dismissalQuietDays = "dismissal_quiet_days"
        case complaintOpenDays = "complaint_open_days"
        case lifeEventRecentDays = "life_event_recent_days"
        case complaintRecentDays = "complaint_recent_days"
        case continuityConversations = "continuity_conversations"
        case conversationChannels = "conversation_channels"
        case quietFactor = "quiet_factor"
        case quietMinimumActivities = "quiet_minimum_activities"
        case quietMinimumDays = "quiet_minimum_days"
        case recurringPainCount = "recurring_pain_count"
        case recurringPainDays = "recurring_pain_days"
        case recurringPains = "recurring_pains"
        case continuityBreak = "continuity_break"
        case signalPurpose = "signal_purpose"
        case signalChannel = "signal_channel"
        case lifeEvents = "life_events"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(unrecordedConsent, forKey: .unrecordedConsent)
        try container.encode(purposes, forKey: .purposes)
        // Unset optionals are written as null, so that every rule appears in the document.
        try container.encode(defaultBudget, forKey: .defaultBudget)
        try container.encode(defaultQuietHours, forKey: .defaultQuietHours)
        try container.encode(onlyPreferredChannels, forKey: .onlyPreferredChannels)
        try container.encode(dismissalQuietDays, forKey: .dismissalQuietDays)
        try container.encode(complaintOpenDays, forKey: .complaintOpenDays)
        try container.encode(lifeEventRecentDays, forKey: .lifeEventRecentDays)
        try container.encode(complaintRecentDays, forKey: .complaintRecentDays)
        try container.encode(continuityConversations, forKey: .continuityConversations)
        try container.encode(conversationChannels, forKey: .conversationChannels)
        try container.encode(quietFactor, forKey: .quietFactor)
        try container.encode(quietMinimumActivities, forKey: .quietMinimumActivities)
        try container.encode(quietMinimumDays, forKey: .quietMinimumDays)
        try container.encode(recurringPainCount, forKey: .recurringPainCount)
        try container.encode(recurringPainDays, forKey: .recurringPainDays)
        try container.encode(recurringPains, forKey: .recurringPains)
        try container.encode(continuityBreak, forKey: .continuityBreak)
        try container.encode(signalPurpose, forKey: .signalPurpose)
        try container.encode(signalChannel, forKey: .signalChannel)
        try container.encode(lifeEvents, forKey: .lifeEvents)
    }

    // MARK: Derived, checked once

    /// The default budget, parsed.
    public var parsedDefaultBudget: ContactBudget? { try? defaultBudget.map { try ContactBudget(input: $0, field: "default_budget") } }
    /// The default quiet hours, parsed.
    public var parsedDefaultQuietHours: QuietHours? {
        try? defaultQuietHours.map { try QuietHours(input: $0, field: "default_quiet_hours") }
    }

    /// The purpose named `name`, or ``StoreError/invalidValue(field:reason:)`` listing the known ones.
    public func purpose(named name: String) throws(StoreError) -> Purpose {
        guard let purpose = purposes[name] else {
            throw .invalidValue(field: "purpose", reason: "'\(name)' is not one of: \(purposes.keys.sorted().joined(separator: ", "))")
        }
        return purpose
    }

    /// The longest care period of any life event, in days.
    var longestCareDays: Int { lifeEvents.values.map(\.careDays).max() ?? 0 }

    /// Checks what the types cannot: ranges, names, parsable budget and hours.
    func validate() throws(StoreError) {
        func positive(_ value: Int, _ name: String, allowZero: Bool = false) throws(StoreError) {
            guard value >= (allowZero ? 0 : 1), value <= 36_500 else {
                throw .invalidValue(field: "rules: \(name)", reason: "\(value) is not \(allowZero ? 0 : 1) to 36500")
            }
        }
        try positive(dismissalQuietDays, "dismissal_quiet_days", allowZero: true)
        try positive(complaintOpenDays, "complaint_open_days", allowZero: true)
        try positive(lifeEventRecentDays, "life_event_recent_days")
        try positive(complaintRecentDays, "complaint_recent_days")
        try positive(continuityConversations, "continuity_conversations")
        try positive(quietFactor, "quiet_factor")
        try positive(quietMinimumActivities, "quiet_minimum_activities")
        try positive(quietMinimumDays, "quiet_minimum_days")
        try positive(recurringPainCount, "recurring_pain_count")
        try positive(recurringPainDays, "recurring_pain_days")
        try positive(continuityBreak, "continuity_break")
        guard continuityBreak >= 2 else { throw .invalidValue(field: "rules: continuity_break", reason: "must be at least 2") }
        for (name, meaning) in lifeEvents { try positive(meaning.careDays, "life_events.\(name).care_days", allowZero: true) }
        for name in unrecordedConsent.keys where ConsentPurpose(rawValue: name) == nil {
            throw .invalidValue(field: "rules: unrecorded_consent", reason: "'\(name)' is not one of: \(ConsentPurpose.rawValues.joined(separator: ", "))")
        }
        for (name, purpose) in purposes {
            if let consent = purpose.consent, ConsentPurpose(rawValue: consent) == nil {
                throw .invalidValue(
                    field: "rules: purposes.\(name).consent", reason: "'\(consent)' is not one of: \(ConsentPurpose.rawValues.joined(separator: ", "))")
            }
        }
        for channel in conversationChannels + [signalChannel] where Channel(rawValue: channel) == nil {
            throw .invalidValue(field: "rules: channels", reason: "'\(channel)' is not one of: \(Channel.rawValues.joined(separator: ", "))")
        }
        guard purposes[signalPurpose] != nil else {
            throw .invalidValue(field: "rules: signal_purpose", reason: "'\(signalPurpose)' is not a purpose in `purposes`")
        }
        if let defaultBudget { _ = try ContactBudget(input: defaultBudget, field: "rules: default_budget") }
        if let defaultQuietHours { _ = try QuietHours(input: defaultQuietHours, field: "rules: default_quiet_hours") }
        for pain in recurringPains where pain.matches.isEmpty || pain.matches.contains("") || pain.fixTopic.isEmpty {
            throw .invalidValue(field: "rules: recurring_pains", reason: "every pain needs non-empty matches and fix_topic")
        }
    }
}
