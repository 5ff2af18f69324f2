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

/// One check of the contact gate and what it found.
public struct GateReason: Sendable, Hashable {
    /// Which check.
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

    public let check: Check
    /// Whether this check says no.
    public let blocks: Bool
    /// One sentence for a person.
    public let message: String
    /// The records it comes from.
    public let sources: [SourceRef]
}

/// The contact gate's answer: yes or no, with a reason for every check that found something.
public struct ContactDecision: Sendable, Hashable {
    public let customer: CustomerID
    public let request: ContactRequest
    /// Whether the contact may be made: no check blocks it.
    public var allowed: Bool { !reasons.contains(where: \.blocks) }
    /// What each check found, blocking ones first, then in check order.
    public let reasons: [GateReason]
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
/// answer with its reasons. No database and no clock: the time is the request's.
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

    /// The answer for `request` to `customer`, whose facts are `facts`.
    /// Throws ``StoreError/invalidValue(field:reason:)`` for a purpose the rules do not know.
    public func decide(_ request: ContactRequest, for customer: CustomerID, facts: ContactFacts) throws(StoreError) -> ContactDecision {
        let purpose = try rules.purpose(named: request.purpose)
        var reasons: [GateReason] = []
        func add(_ check: GateReason.Check, _ blocks: Bool, _ message: String, _ sources: [SourceRef] = []) {
            reasons.append(GateReason(check: check, blocks: blocks, message: message, sources: sources))
        }
        // A preference that cannot be read says no wherever a value of it could have:
        // the customer may have asked for exactly that.
        if let problem = facts.unreadable["do_not_contact"] {
            add(.doNotContact, true, Self.unreadable("do_not_contact", problem, blocks: true), [.field("do_not_contact")])
        } else if facts.doNotContact {
            add(.doNotContact, true, "the customer asked not to be contacted", [.field("do_not_contact")])
        }
        if let consent = facts.consent {
            add(.consent, !consent.allowed, consent.reason, consent.sources)
        }
        if !purpose.urgent {
            checkQuietHours(request, facts: facts, add: add)
            checkBudget(request, facts: facts, add: add)
            checkDismissals(request, facts: facts, add: add)
        }
        checkCare(request, offer: purpose.offer, facts: facts, add: add)
        checkComplaint(request, offer: purpose.offer, facts: facts, add: add)
        if let problem = facts.unreadable["preferred_channels"] {
            let blocks = rules.onlyPreferredChannels
            add(.channel, blocks, Self.unreadable("preferred_channels", problem, blocks: blocks), [.field("preferred_channels")])
        } else if !facts.preferredChannels.isEmpty, !facts.preferredChannels.contains(request.channel) {
            let preferred = facts.preferredChannels.map(\.rawValue).joined(separator: ", ")
            add(
                .channel, rules.onlyPreferredChannels, "\(request.channel.rawValue) is not a preferred channel (preferred: \(preferred))",
                [.field("preferred_channels")])
        }
        let ordered = reasons.filter(\.blocks) + reasons.filter { !$0.blocks }
        return ContactDecision(customer: customer, request: request, reasons: ordered)
    }

    private typealias Add = (GateReason.Check, Bool, String, [SourceRef]) -> Void

    /// What the gate says of a preference it cannot read.
    static func unreadable(_ field: String, _ problem: String, blocks: Bool) -> String {
        "\(field) cannot be read (\(problem)): " + (blocks ? "no contact until it is set again" : "it does not hold this contact back")
    }

    private func checkQuietHours(_ request: ContactRequest, facts: ContactFacts, add: Add) {
        if let problem = facts.unreadable["quiet_hours"] {
            add(.quietHours, true, Self.unreadable("quiet_hours", problem, blocks: true), [.field("quiet_hours")])
            return
        }
        let own = facts.quietHours
        var fallback: QuietHours?
        if own == nil, let text = rules.defaultQuietHours {
            do {
                fallback = try QuietHours(input: text, field: "default_quiet_hours")
            } catch {  // rules made in code, never validated
                add(.quietHours, true, Self.unreadable("the rules' default_quiet_hours", "\(error)", blocks: true), [.rule("default_quiet_hours")])
                return
            }
        }
        guard let hours = own ?? fallback else { return }
        guard let local = Self.localMinute(of: request.at, in: hours.timeZone) else {
            add(.quietHours, true, "unknown time zone '\(hours.timeZone)': cannot tell the local time", own == nil ? [.rule("default_quiet_hours")] : [.field("quiet_hours")])
            return
        }
        let time = "\(LocalTime.text(local)) in \(hours.timeZone)"
        let source: [SourceRef] = own == nil ? [.rule("default_quiet_hours")] : [.field("quiet_hours")]
        let origin = own == nil ? " (the bank's default)" : ""
        if hours.contains(minuteOfDay: local) {
            add(.quietHours, true, "\(time) is within quiet hours \(hours.start)-\(hours.end)\(origin)", source)
        } else {
            add(.quietHours, false, "\(time) is outside quiet hours \(hours.start)-\(hours.end)\(origin)", source)
        }
    }

    private func checkBudget(_ request: ContactRequest, facts: ContactFacts, add: Add) {
        if let problem = facts.unreadable["contact_budget"] {
            add(.budget, true, Self.unreadable("contact_budget", problem, blocks: true), [.field("contact_budget")])
            return
        }
        let own = facts.budget
        var fallback: ContactBudget?
        if own == nil, let text = rules.defaultBudget {
            do {
                fallback = try ContactBudget(input: text, field: "default_budget")
            } catch {  // rules made in code, never validated
                add(.budget, true, Self.unreadable("the rules' default_budget", "\(error)", blocks: true), [.rule("default_budget")])
                return
            }
        }
        guard let budget = own ?? fallback else { return }
        let counted = countedContacts(facts.recentContacts, against: budget, at: request.at)
        let used = "\(counted.count) of \(budget.maxContacts) proactive contacts in the last \(budget.period.rawValue)"
            + (own == nil ? " (the bank's default budget)" : "")
        let sources: [SourceRef] = [own == nil ? .rule("default_budget") : .field("contact_budget")] + counted.map { .contact($0.id) }
        add(.budget, counted.count >= budget.maxContacts, counted.count >= budget.maxContacts ? "budget spent: \(used)" : used, sources)
    }

    /// The contacts that count toward `budget` at `time`: made in the period that ends
    /// then, delivered (not failed), and not urgent.
    func countedContacts(_ contacts: [ContactRecord], against budget: ContactBudget, at time: Instant) -> [ContactRecord] {
        let since = time.minus(days: Self.days(in: budget.period))
        return contacts.filter { contact in
            contact.at > since && contact.at <= time && contact.outcome != .failed && !(rules.purposes[contact.purpose]?.urgent ?? false)
        }
    }

    private func checkDismissals(_ request: ContactRequest, facts: ContactFacts, add: Add) {
        guard rules.dismissalQuietDays > 0 else { return }
        let since = request.at.minus(days: rules.dismissalQuietDays)
        let topic = request.topic.map(Self.normalized)
        let dismissed = facts.recentContacts.first { contact in
            guard contact.outcome == .dismissed || contact.outcome == .declined, contact.at > since, contact.at <= request.at else {
                return false
            }
            return topic.map { Self.normalized(contact.topic) == $0 } ?? (contact.purpose == request.purpose)
        }
        guard let dismissed else { return }
        let what = topic == nil ? "a \(dismissed.purpose) contact" : "\"\(dismissed.topic)\""
        add(
            .dismissal, true,
            "the customer \(dismissed.outcomeName) \(what) on \(dismissed.at.utcDay) (quiet for \(rules.dismissalQuietDays) days)",
            [.contact(dismissed.id)])
    }

    private func checkCare(_ request: ContactRequest, offer: Bool, facts: ContactFacts, add: Add) {
        let today = request.at.utcDay.daysSince1970
        for event in facts.recentLifeEvents {
            guard let meaning = rules.lifeEvents[event.typeName], meaning.careDays > 0 else { continue }
            let age = today - event.date.daysSince1970
            guard age >= 0, age < meaning.careDays else { continue }
            add(
                .carePeriod, offer,
                "\(event.typeName.replacingOccurrences(of: "_", with: " ")) on \(event.date): \(meaning.meaning)"
                    + (offer ? "" : " (contact with care)"),
                [.lifeEvent(event.id)])
        }
    }

    private func checkComplaint(_ request: ContactRequest, offer: Bool, facts: ContactFacts, add: Add) {
        guard let complaint = Self.openComplaint(in: facts.recentMoods, at: request.at, rules: rules) else { return }
        add(
            .complaint, offer,
            "a complaint on \(complaint.at.utcDay) is in progress" + (offer ? ": no offers until it is resolved" : ": acknowledge it first"),
            [.note(complaint.note)])
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
