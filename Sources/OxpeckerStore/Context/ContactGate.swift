import Foundation
import OxpeckerProtocol

/// A proactive contact an app or an advisor wants to make.
public struct ContactRequest: Sendable, Hashable {
    public var channel: Channel
    /// A purpose of ``ContextRules/purposes``, like `marketing` or `service`.
    public var purpose: String
    /// What it is about; a recent dismissal of the same topic holds it back. Without
    /// a topic, a recent dismissal of the same purpose does.
    public var topic: String?
    /// When it would be made.
    public var at: Instant

    public init(channel: Channel, purpose: String, topic: String? = nil, at: Instant) {
        self.channel = channel
        self.purpose = purpose
        self.topic = topic
        self.at = at
    }
}

/// One check of the contact gate and its verdict: every check answers every
/// request, whether it blocks the contact, lets it pass or does not apply to it.
///
/// ```swift
/// let quiet = answer.reason(for: .quietHours)
/// print(quiet.verdict, quiet.message)  // notApplicable "quiet hours do not apply: security is an urgent purpose"
/// ```
public struct GateReason: Sendable, Hashable {
    /// Which check; in the order the gate lists them.
    public enum Check: String, Sendable, Hashable, CaseIterable {
        case doNotContact = "do_not_contact"
        case consent
        case quietHours = "quiet_hours"
        case budget
        case dismissal
        case carePeriod = "care_period"
        case complaint
        case channel
    }

    /// What a check says of the contact. Wire names (`oxpecker may-contact --json`): `passes`, `blocks`, `not_applicable`.
    public enum Verdict: String, Sendable, Hashable, CaseIterable {
        /// The check allows the contact. Its message may still ask for care (a care
        /// period before a service call, a channel the customer does not prefer).
        case passes
        /// The check says no.
        case blocks
        /// The check has nothing to say about this contact: not for its purpose (quiet
        /// hours for an urgent one, consent for a purpose that needs none), or nothing
        /// is set to check against (no quiet hours, no preferred channels).
        case notApplicable = "not_applicable"
    }

    public let check: Check
    public let verdict: Verdict
    /// One sentence for a person, whatever the verdict.
    public let message: String
    /// The records it comes from.
    public let sources: [SourceRef]

    /// Whether this check says no.
    public var blocks: Bool { verdict == .blocks }

    init(_ check: Check, _ verdict: Verdict, _ message: String, _ sources: [SourceRef] = []) {
        self.check = check
        self.verdict = verdict
        self.message = message
        self.sources = sources
    }
}

/// The contact gate's answer: yes or no, with the verdict of every check.
///
/// ```swift
/// let answer = try store.mayContact("c-1001", on: .sms, for: "marketing", at: now)
/// for reason in answer.reasons { print(reason.verdict, reason.check, reason.message) }
/// ```
public struct ContactDecision: Sendable, Hashable {
    public let customer: CustomerID
    public let request: ContactRequest
    /// Whether the contact may be made: no check blocks it.
    public var allowed: Bool { !reasons.contains(where: \.blocks) }
    /// One reason per ``GateReason/Check``, each exactly once: the blocking ones
    /// first, then the others, each group in check order.
    public let reasons: [GateReason]

    /// From one reason per check, in any order.
    init(customer: CustomerID, request: ContactRequest, answers: [GateReason]) {
        let inOrder = GateReason.Check.allCases.compactMap { check in answers.first { $0.check == check } }
        precondition(inOrder.count == answers.count && answers.count == GateReason.Check.allCases.count, "one reason per check")
        self.customer = customer
        self.request = request
        reasons = inOrder.filter(\.blocks) + inOrder.filter { !$0.blocks }
    }

    /// What `check` says of the contact.
    public func reason(for check: GateReason.Check) -> GateReason {
        guard let reason = reasons.first(where: { $0.check == check }) else {
            preconditionFailure("every decision has a reason for every check")  // see init
        }
        return reason
    }
}

/// What the contact gate needs to know about one customer, read in a few indexed lookups.
public struct ContactFacts: Sendable, Hashable {
    /// Contact preferences stored in a form this build cannot read (a newer peer's
    /// form, a time zone this machine does not know, a damaged value), by field
    /// name, with why: the gate fails closed, saying no wherever a value of the
    /// field could have, and names the problem.
    public var unreadable: [String: String] = [:]
    public var doNotContact = false
    public var quietHours: QuietHours?
    public var budget: ContactBudget?
    public var preferredChannels: [Channel] = []
    /// The consent verdict for the purpose's consent, if the purpose needs one.
    public var consent: ConsentVerdict?
    /// Contacts of the recent past (at least the budget period and the dismissal window), newest first.
    public var recentContacts: [ContactRecord] = []
    /// Life events of the recent past (at least the longest care period).
    public var recentLifeEvents: [LifeEvent] = []
    /// Notes with a sentiment in the complaint window, oldest first.
    public var recentMoods: [Mood] = []

    /// A note's sentiment and time, without its text.
    public struct Mood: Sendable, Hashable {
        public let note: RecordID
        public let at: Instant
        public let sentiment: Sentiment
    }

    public init() {}
}

/// The contact gate, pure: from a customer's facts, a request and the rules, the
/// answer with the verdict of every check. No database and no clock: the time is the request's.
public struct ContactGate: Sendable {
    public let rules: ContextRules

    public init(rules: ContextRules = .standard) {
        self.rules = rules
    }

    /// The length of a budget period, rolling: the budget counts contacts in the
    /// period that ends at the time asked, so that it never resets in a burst at
    /// the turn of a month.
    public static func days(in period: BudgetPeriod) -> Int {
        switch period {
        case .day: 1
        case .week: 7
        case .month: 30
        case .quarter: 91
        }
    }

    /// How many days back the gate reads contacts: the longest budget period (a
    /// customer's budget is not known before the read) or the dismissal window.
    var contactWindowDays: Int {
        max(rules.dismissalQuietDays, BudgetPeriod.allCases.map(Self.days(in:)).max() ?? 0)
    }

    /// The answer for `request` to `customer`, whose facts are `facts`: one reason per
    /// check, each saying whether the check blocks, passes or does not apply.
    /// Throws ``StoreError/invalidValue(field:reason:)`` for a purpose the rules do not know.
    public func decide(_ request: ContactRequest, for customer: CustomerID, facts: ContactFacts) throws(StoreError) -> ContactDecision {
        let purpose = try rules.purpose(named: request.purpose)
        let urgent = purpose.urgent ? "\(request.purpose) is an urgent purpose" : nil
        let answers = [
            doNotContact(facts),
            consent(request, needs: purpose.consent, facts: facts),
            urgent.map { GateReason(.quietHours, .notApplicable, "quiet hours do not apply: \($0)") } ?? quietHours(request, facts: facts),
            urgent.map { GateReason(.budget, .notApplicable, "the contact budget does not apply: \($0)") } ?? budget(request, facts: facts),
            urgent.map { GateReason(.dismissal, .notApplicable, "earlier dismissals do not apply: \($0)") } ?? dismissal(request, facts: facts),
            care(request, offer: purpose.offer, facts: facts),
            complaint(request, offer: purpose.offer, facts: facts),
            channel(request, facts: facts),
        ]
        return ContactDecision(customer: customer, request: request, answers: answers)
    }

    /// What the gate says of a preference it cannot read.
    static func unreadable(_ field: String, _ problem: String, blocks: Bool) -> String {
        "\(field) cannot be read (\(problem)): " + (blocks ? "no contact until it is set again" : "it does not hold this contact back")
    }

    // A preference that cannot be read says no wherever a value of it could have:
    // the customer may have asked for exactly that.

    private func doNotContact(_ facts: ContactFacts) -> GateReason {
        if let problem = facts.unreadable["do_not_contact"] {
            return GateReason(.doNotContact, .blocks, Self.unreadable("do_not_contact", problem, blocks: true), [.field("do_not_contact")])
        }
        if facts.doNotContact {
            return GateReason(.doNotContact, .blocks, "the customer asked not to be contacted", [.field("do_not_contact")])
        }
        return GateReason(.doNotContact, .passes, "the customer has not asked not to be contacted")
    }

    private func consent(_ request: ContactRequest, needs consent: String?, facts: ContactFacts) -> GateReason {
        guard let consent else { return GateReason(.consent, .notApplicable, "no consent is needed for \(request.purpose)") }
        guard let verdict = facts.consent else {  // facts made in code without it: fail closed
            return GateReason(.consent, .blocks, "\(consent) consent is needed and was not checked: no contact until it is")
        }
        return GateReason(.consent, verdict.allowed ? .passes : .blocks, verdict.reason, verdict.sources)
    }

    private func quietHours(_ request: ContactRequest, facts: ContactFacts) -> GateReason {
        if let problem = facts.unreadable["quiet_hours"] {
            return GateReason(.quietHours, .blocks, Self.unreadable("quiet_hours", problem, blocks: true), [.field("quiet_hours")])
        }
        let own = facts.quietHours
        var fallback: QuietHours?
        if own == nil, let text = rules.defaultQuietHours {
            do {
                fallback = try QuietHours(input: text, field: "default_quiet_hours")
            } catch {  // rules made in code, never validated
                return GateReason(
                    .quietHours, .blocks, Self.unreadable("the rules' default_quiet_hours", "\(error)", blocks: true), [.rule("default_quiet_hours")])
            }
        }
        guard let hours = own ?? fallback else { return GateReason(.quietHours, .notApplicable, "no quiet hours set") }
        let source: [SourceRef] = own == nil ? [.rule("default_quiet_hours")] : [.field("quiet_hours")]
        guard let local = Self.localMinute(of: request.at, in: hours.timeZone) else {
            return GateReason(.quietHours, .blocks, "unknown time zone '\(hours.timeZone)': cannot tell the local time", source)
        }
        let time = "\(LocalTime.text(local)) in \(hours.timeZone)"
        let origin = own == nil ? " (the bank's default)" : ""
        if hours.contains(minuteOfDay: local) {
            return GateReason(.quietHours, .blocks, "\(time) is within quiet hours \(hours.start)-\(hours.end)\(origin)", source)
        }
        return GateReason(.quietHours, .passes, "\(time) is outside quiet hours \(hours.start)-\(hours.end)\(origin)", source)
    }

    private func budget(_ request: ContactRequest, facts: ContactFacts) -> GateReason {
        if let problem = facts.unreadable["contact_budget"] {
            return GateReason(.budget, .blocks, Self.unreadable("contact_budget", problem, blocks: true), [.field("contact_budget")])
        }
        let own = facts.budget
        var fallback: ContactBudget?
        if own == nil, let text = rules.defaultBudget {
            do {
                fallback = try ContactBudget(input: text, field: "default_budget")
            } catch {  // rules made in code, never validated
                return GateReason(.budget, .blocks, Self.unreadable("the rules' default_budget", "\(error)", blocks: true), [.rule("default_budget")])
            }
        }
        guard let budget = own ?? fallback else { return GateReason(.budget, .notApplicable, "no contact budget set") }
        let counted = countedContacts(facts.recentContacts, against: budget, at: request.at)
        let used = "\(counted.count) of \(budget.maxContacts) proactive contacts in the last \(budget.period.rawValue)"
            + (own == nil ? " (the bank's default budget)" : "")
        let sources: [SourceRef] = [own == nil ? .rule("default_budget") : .field("contact_budget")] + counted.map { .contact($0.id) }
        let spent = counted.count >= budget.maxContacts
        return GateReason(.budget, spent ? .blocks : .passes, spent ? "budget spent: \(used)" : used, sources)
    }

    /// The contacts that count toward `budget` at `time`: made in the period that ends
    /// then, delivered (not failed), and not urgent.
    func countedContacts(_ contacts: [ContactRecord], against budget: ContactBudget, at time: Instant) -> [ContactRecord] {
        let since = time.minus(days: Self.days(in: budget.period))
        return contacts.filter { contact in
            contact.at > since && contact.at <= time && contact.outcome != .failed && !(rules.purposes[contact.purpose]?.urgent ?? false)
        }
    }

    private func dismissal(_ request: ContactRequest, facts: ContactFacts) -> GateReason {
        let days = rules.dismissalQuietDays
        guard days > 0 else {
            return GateReason(.dismissal, .notApplicable, "the rules hold nothing back after a dismissal (dismissal_quiet_days is 0)")
        }
        let since = request.at.minus(days: days)
        let topic = request.topic.map(Self.normalized)
        let dismissed = facts.recentContacts.first { contact in
            guard contact.outcome == .dismissed || contact.outcome == .declined, contact.at > since, contact.at <= request.at else {
                return false
            }
            return topic.map { Self.normalized(contact.topic) == $0 } ?? (contact.purpose == request.purpose)
        }
        guard let dismissed else {
            let what = request.topic.map { "of \"\($0)\"" } ?? "of a \(request.purpose) contact"
            return GateReason(.dismissal, .passes, "no dismissal or decline \(what) in the last \(days) days")
        }
        let what = topic == nil ? "a \(dismissed.purpose) contact" : "\"\(dismissed.topic)\""
        return GateReason(
            .dismissal, .blocks, "the customer \(dismissed.outcomeName) \(what) on \(dismissed.at.utcDay) (quiet for \(days) days)",
            [.contact(dismissed.id)])
    }

    private func care(_ request: ContactRequest, offer: Bool, facts: ContactFacts) -> GateReason {
        guard rules.longestCareDays > 0 else { return GateReason(.carePeriod, .notApplicable, "the rules set no care period after a life event") }
        let today = request.at.utcDay.daysSince1970
        var found: [(text: String, source: SourceRef)] = []
        for event in facts.recentLifeEvents {
            guard let meaning = rules.lifeEvents[event.typeName], meaning.careDays > 0 else { continue }
            let age = today - event.date.daysSince1970
            guard age >= 0, age < meaning.careDays else { continue }
            found.append(("\(event.typeName.replacingOccurrences(of: "_", with: " ")) on \(event.date): \(meaning.meaning)", .lifeEvent(event.id)))
        }
        guard !found.isEmpty else { return GateReason(.carePeriod, .passes, "no care period after a life event is running") }
        return GateReason(
            .carePeriod, offer ? .blocks : .passes, found.map(\.text).joined(separator: "; ") + (offer ? "" : " (contact with care)"),
            found.map(\.source))
    }

    private func complaint(_ request: ContactRequest, offer: Bool, facts: ContactFacts) -> GateReason {
        guard rules.complaintOpenDays > 0 else {
            return GateReason(.complaint, .notApplicable, "the rules keep no complaint open (complaint_open_days is 0)")
        }
        guard let complaint = Self.openComplaint(in: facts.recentMoods, at: request.at, rules: rules) else {
            return GateReason(.complaint, .passes, "no complaint in progress")
        }
        return GateReason(
            .complaint, offer ? .blocks : .passes,
            "a complaint on \(complaint.at.utcDay) is in progress" + (offer ? ": no offers until it is resolved" : ": acknowledge it first"),
            [.note(complaint.note)])
    }

    private func channel(_ request: ContactRequest, facts: ContactFacts) -> GateReason {
        let strict: GateReason.Verdict = rules.onlyPreferredChannels ? .blocks : .passes
        if let problem = facts.unreadable["preferred_channels"] {
            return GateReason(
                .channel, strict, Self.unreadable("preferred_channels", problem, blocks: rules.onlyPreferredChannels), [.field("preferred_channels")])
        }
        guard !facts.preferredChannels.isEmpty else { return GateReason(.channel, .notApplicable, "no preferred channels set") }
        let preferred = facts.preferredChannels.map(\.rawValue).joined(separator: ", ")
        if facts.preferredChannels.contains(request.channel) {
            return GateReason(.channel, .passes, "\(request.channel.rawValue) is a preferred channel (preferred: \(preferred))", [.field("preferred_channels")])
        }
        return GateReason(
            .channel, strict, "\(request.channel.rawValue) is not a preferred channel (preferred: \(preferred))", [.field("preferred_channels")])
    }

    /// The complaint in progress at `time`: the latest complaint of the last
    /// ``ContextRules/complaintOpenDays`` with no positive conversation after it.
    static func openComplaint(in moods: [ContactFacts.Mood], at time: Instant, rules: ContextRules) -> ContactFacts.Mood? {
        let since = time.minus(days: rules.complaintOpenDays)
        let moods = moods.filter { $0.at <= time }
        guard let complaint = moods.last(where: { $0.sentiment == .complaint && $0.at > since }) else { return nil }
        return moods.contains { $0.at > complaint.at && $0.sentiment == .positive } ? nil : complaint
    }

    /// A topic compared without case or surrounding spaces.
    static func normalized(_ topic: String) -> String {
        // In Swift, not Foundation's trimmingCharacters, which bridges through NSString
        // and cost the gate more than all its rules together.
        var text = Substring(topic)
        while text.first?.isWhitespace == true { text.removeFirst() }
        while text.last?.isWhitespace == true { text.removeLast() }
        return text.lowercased()
    }

    /// The minute of the day (0 to 1439) at `instant` in the IANA zone `identifier`,
    /// with that day's offset (daylight-saving time included); nil for an unknown zone.
    public static func localMinute(of instant: Instant, in identifier: String) -> Int? {
        guard let zone = TimeZone(identifier: identifier) else { return nil }
        let seconds = instant.millisecondsSince1970.floorDivided(by: 1000)
        let offset = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds))))
        return Int((seconds + offset).floorDivided(by: 60) % 1440 + 1440) % 1440
    }
}

extension LocalTime {
    /// `HH:MM` of a minute of the day.
    static func text(_ minuteOfDay: Int) -> String {
        (try? LocalTime(hour: minuteOfDay / 60, minute: minuteOfDay % 60).description) ?? "\(minuteOfDay)"
    }
}
