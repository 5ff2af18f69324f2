import OxpeckerProtocol
import Testing

@testable import OxpeckerStore

/// The contact gate answers every check, every time: whether it blocks the
/// contact, lets it pass or does not apply, each with a sentence for a person.
@Suite("Contact gate: a verdict for every check")
struct ContactGateTests {
    /// 2026-11-24T12:00:00Z: 13:00 in Prague, outside the quiet hours 21:00-08:00 used below.
    static let noon = Instant(millisecondsSince1970: 1_795_521_600_000)
    /// 21:00 UTC the same day: 22:00 in Prague, within them.
    static let night = Instant(millisecondsSince1970: noon.millisecondsSince1970 + 9 * 3_600_000)

    /// One situation and what one check must say of it.
    struct Case: Sendable, CustomTestStringConvertible {
        let check: GateReason.Check
        let verdict: GateReason.Verdict
        let situation: String
        var purpose = "marketing"
        var channel = Channel.email
        var topic: String? = "savings offer"
        var at = ContactGateTests.noon
        var facts = ContactGateTests.facts()
        var rules = ContextRules.standard
        /// What the message says (a part of it).
        let message: String

        var testDescription: String { "\(check.rawValue) \(verdict.rawValue): \(situation)" }
    }

    /// A customer with nothing set and nothing recorded; marketing consent, if asked, granted.
    static func facts() -> ContactFacts {
        facts { _ in }
    }

    /// ``facts()``, changed by `change`.
    static func facts(_ change: (inout ContactFacts) throws -> Void) rethrows -> ContactFacts {
        var facts = ContactFacts()
        facts.consent = ConsentVerdict(purpose: "marketing", allowed: true, basis: .unrecordedAllowed, decision: nil)
        try change(&facts)
        return facts
    }

    static func contact(_ id: String, topic: String, outcome: ContactOutcome, daysAgo: Int, purpose: String = "marketing") -> ContactRecord {
        ContactRecord(
            id: RecordID(unchecked: id), channel: .sms, channelName: "sms", purpose: purpose, topic: topic, at: noon.minus(days: daysAgo),
            outcome: outcome, outcomeName: outcome.rawValue)
    }

    static func lifeEvent(_ type: LifeEventType, daysAgo: Int) -> LifeEvent {
        LifeEvent(
            id: RecordID(unchecked: "life-\(type.rawValue)"), type: type, typeName: type.rawValue,
            date: LocalDate(daysSince1970: noon.utcDay.daysSince1970 - daysAgo), source: "branch", confidence: 100, detail: nil)
    }

    static func complaint(daysAgo: Int) -> ContactFacts.Mood {
        ContactFacts.Mood(note: RecordID(unchecked: "note-complaint"), at: noon.minus(days: daysAgo), sentiment: .complaint)
    }

    /// Every situation below, busy or quiet, for every purpose: for the checks that must answer in all of them.
    static func everything() throws -> ContactFacts {
        try facts { facts in
            facts.quietHours = try QuietHours(input: "21:00-08:00 Europe/Prague", field: "quiet_hours")
            facts.budget = try ContactBudget(input: "1/week", field: "contact_budget")
            facts.preferredChannels = [.branch]
            facts.recentContacts = [contact("c-dismissed", topic: "savings offer", outcome: .dismissed, daysAgo: 2)]
            facts.recentLifeEvents = [lifeEvent(.bereavement, daysAgo: 10)]
            facts.recentMoods = [complaint(daysAgo: 3)]
        }
    }

    static func cases() throws -> [Case] {
        let prague = try QuietHours(input: "21:00-08:00 Europe/Prague", field: "quiet_hours")
        let weekly = try ContactBudget(input: "3/week", field: "contact_budget")
        var noDismissals = ContextRules.standard
        noDismissals.dismissalQuietDays = 0
        var noComplaints = ContextRules.standard
        noComplaints.complaintOpenDays = 0
        var noCare = ContextRules.standard
        for type in noCare.lifeEvents.keys { noCare.lifeEvents[type]?.careDays = 0 }
        var onlyPreferred = ContextRules.standard
        onlyPreferred.onlyPreferredChannels = true
        let two = [contact("c-a", topic: "cards", outcome: .sent, daysAgo: 1), contact("c-b", topic: "loans", outcome: .shown, daysAgo: 3)]
        let three = two + [contact("c-c", topic: "funds", outcome: .sent, daysAgo: 5)]
        return [
            Case(check: .doNotContact, verdict: .passes, situation: "not set", message: "the customer has not asked not to be contacted"),
            Case(
                check: .doNotContact, verdict: .blocks, situation: "set, even for an urgent purpose", purpose: "security",
                facts: facts { $0.doNotContact = true }, message: "the customer asked not to be contacted"),
            Case(
                check: .doNotContact, verdict: .blocks, situation: "unreadable", facts: facts { $0.unreadable["do_not_contact"] = "not JSON" },
                message: "do_not_contact cannot be read (not JSON)"),

            Case(check: .consent, verdict: .notApplicable, situation: "service needs none", purpose: "service", message: "no consent is needed for service"),
            Case(check: .consent, verdict: .notApplicable, situation: "security needs none", purpose: "security", message: "no consent is needed for security"),
            Case(check: .consent, verdict: .passes, situation: "allowed", message: "no marketing decision recorded; allowed until withdrawn"),
            Case(
                check: .consent, verdict: .blocks, situation: "not given",
                facts: facts { $0.consent = ConsentVerdict(purpose: "marketing", allowed: false, basis: .unrecordedDenied, decision: nil) },
                message: "no marketing consent recorded; needs a grant"),
            Case(
                check: .consent, verdict: .blocks, situation: "needed but not in the facts (fail closed)", facts: facts { $0.consent = nil },
                message: "marketing consent is needed and was not checked"),

            Case(check: .quietHours, verdict: .notApplicable, situation: "none set", message: "no quiet hours set"),
            Case(
                check: .quietHours, verdict: .notApplicable, situation: "urgent purpose, at night", purpose: "security", at: night,
                facts: facts { $0.quietHours = prague }, message: "quiet hours do not apply: security is an urgent purpose"),
            Case(
                check: .quietHours, verdict: .passes, situation: "outside", facts: facts { $0.quietHours = prague },
                message: "13:00 in Europe/Prague is outside quiet hours 21:00-08:00"),
            Case(
                check: .quietHours, verdict: .blocks, situation: "within", at: night, facts: facts { $0.quietHours = prague },
                message: "22:00 in Europe/Prague is within quiet hours 21:00-08:00"),

            Case(check: .budget, verdict: .notApplicable, situation: "none set", message: "no contact budget set"),
            Case(
                check: .budget, verdict: .notApplicable, situation: "urgent purpose, budget spent", purpose: "security",
                facts: facts { $0.budget = weekly; $0.recentContacts = three }, message: "the contact budget does not apply: security is an urgent purpose"),
            Case(
                check: .budget, verdict: .passes, situation: "room left", facts: facts { $0.budget = weekly; $0.recentContacts = two },
                message: "2 of 3 proactive contacts in the last week"),
            Case(
                check: .budget, verdict: .blocks, situation: "spent", facts: facts { $0.budget = weekly; $0.recentContacts = three },
                message: "budget spent: 3 of 3 proactive contacts in the last week"),

            Case(
                check: .dismissal, verdict: .passes, situation: "no dismissal of the topic",
                facts: facts { $0.recentContacts = [contact("c-other", topic: "mortgage", outcome: .dismissed, daysAgo: 2)] },
                message: #"no dismissal or decline of "savings offer" in the last 30 days"#),
            Case(
                check: .dismissal, verdict: .passes, situation: "no dismissal of the purpose, without a topic", topic: nil,
                message: "no dismissal or decline of a marketing contact in the last 30 days"),
            Case(
                check: .dismissal, verdict: .blocks, situation: "the topic dismissed",
                facts: facts { $0.recentContacts = [contact("c-dismissed", topic: "Savings offer ", outcome: .dismissed, daysAgo: 2)] },
                message: #"the customer dismissed "Savings offer " on 2026-11-22 (quiet for 30 days)"#),
            Case(
                check: .dismissal, verdict: .notApplicable, situation: "urgent purpose", purpose: "security",
                facts: facts { $0.recentContacts = [contact("c-dismissed", topic: "savings offer", outcome: .dismissed, daysAgo: 2)] },
                message: "earlier dismissals do not apply: security is an urgent purpose"),
            Case(
                check: .dismissal, verdict: .notApplicable, situation: "the rules hold nothing back",
                facts: facts { $0.recentContacts = [contact("c-dismissed", topic: "savings offer", outcome: .dismissed, daysAgo: 2)] },
                rules: noDismissals, message: "dismissal_quiet_days is 0"),

            Case(check: .carePeriod, verdict: .passes, situation: "no life event", message: "no care period after a life event is running"),
            Case(
                check: .carePeriod, verdict: .passes, situation: "service in a care period: with care", purpose: "service",
                facts: facts { $0.recentLifeEvents = [lifeEvent(.bereavement, daysAgo: 10)] }, message: "(contact with care)"),
            Case(
                check: .carePeriod, verdict: .blocks, situation: "an offer in a care period",
                facts: facts { $0.recentLifeEvents = [lifeEvent(.bereavement, daysAgo: 10)] }, message: "bereavement on 2026-11-14"),
            Case(
                check: .carePeriod, verdict: .notApplicable, situation: "the rules set no care period",
                facts: facts { $0.recentLifeEvents = [lifeEvent(.bereavement, daysAgo: 10)] }, rules: noCare,
                message: "the rules set no care period after a life event"),

            Case(check: .complaint, verdict: .passes, situation: "none", message: "no complaint in progress"),
            Case(
                check: .complaint, verdict: .passes, situation: "service during a complaint", purpose: "service",
                facts: facts { $0.recentMoods = [complaint(daysAgo: 3)] }, message: "is in progress: acknowledge it first"),
            Case(
                check: .complaint, verdict: .blocks, situation: "an offer during a complaint", facts: facts { $0.recentMoods = [complaint(daysAgo: 3)] },
                message: "a complaint on 2026-11-21 is in progress: no offers until it is resolved"),
            Case(
                check: .complaint, verdict: .notApplicable, situation: "the rules keep none open",
                facts: facts { $0.recentMoods = [complaint(daysAgo: 3)] }, rules: noComplaints, message: "complaint_open_days is 0"),

            Case(check: .channel, verdict: .notApplicable, situation: "none preferred", message: "no preferred channels set"),
            Case(
                check: .channel, verdict: .passes, situation: "a preferred one", facts: facts { $0.preferredChannels = [.branch, .email] },
                message: "email is a preferred channel (preferred: branch, email)"),
            Case(
                check: .channel, verdict: .passes, situation: "another one, only noted", facts: facts { $0.preferredChannels = [.branch] },
                message: "email is not a preferred channel (preferred: branch)"),
            Case(
                check: .channel, verdict: .blocks, situation: "another one, with only_preferred_channels",
                facts: facts { $0.preferredChannels = [.branch] }, rules: onlyPreferred, message: "email is not a preferred channel (preferred: branch)"),
        ]
    }

    @Test("each check passes, blocks or does not apply, with a sentence that says which", arguments: try cases())
    func verdict(of situation: Case) throws {
        let request = ContactRequest(channel: situation.channel, purpose: situation.purpose, topic: situation.topic, at: situation.at)
        let answer = try ContactGate(rules: situation.rules).decide(request, for: "c-1", facts: situation.facts)
        let reason = answer.reason(for: situation.check)
        #expect(reason.check == situation.check)
        #expect(reason.verdict == situation.verdict, "\(reason.message)")
        #expect(reason.blocks == (situation.verdict == .blocks))
        #expect(reason.message.contains(situation.message), "\(reason.message)")
        #expect(!reason.message.isEmpty && !reason.message.contains("\n"))
        Self.expectWellFormed(answer)
    }

    @Test("every check answers exactly once, for every purpose, a quiet customer or a busy one", arguments: ContextRules.standard.purposes.keys.sorted())
    func everyCheckOnce(purpose: String) throws {
        for facts in [Self.facts(), try Self.everything()] {
            for time in [Self.noon, Self.night] {
                let request = ContactRequest(channel: .email, purpose: purpose, topic: "savings offer", at: time)
                let answer = try ContactGate().decide(request, for: "c-1", facts: facts)
                Self.expectWellFormed(answer)
            }
        }
    }

    @Test("an urgent purpose: quiet hours, the budget and dismissals do not apply; do-not-contact and the rest still answer")
    func urgent() throws {
        let night = ContactRequest(channel: .sms, purpose: "security", at: Self.night)
        let answer = try ContactGate().decide(night, for: "c-1", facts: try Self.everything())
        #expect(answer.allowed, "\(answer.reasons.map(\.message))")
        #expect(answer.reasons.map(\.verdict) == [.passes, .notApplicable, .notApplicable, .notApplicable, .notApplicable, .passes, .passes, .passes])
        #expect(answer.reasons.filter { $0.verdict == .notApplicable }.map(\.check) == [.consent, .quietHours, .budget, .dismissal])
        #expect(answer.reason(for: .carePeriod).message.hasSuffix("(contact with care)"))
        #expect(answer.reason(for: .channel).message == "sms is not a preferred channel (preferred: branch)")
    }

    @Test("blocking reasons come first, then the others, each group in check order")
    func order() throws {
        // Blocks: consent (not given), quiet hours (at night), complaint (an offer).
        let facts = try Self.facts { facts in
            facts.consent = ConsentVerdict(purpose: "marketing", allowed: false, basis: .unrecordedDenied, decision: nil)
            facts.quietHours = try QuietHours(input: "21:00-08:00 Europe/Prague", field: "quiet_hours")
            facts.budget = try ContactBudget(input: "4/month", field: "contact_budget")
            facts.preferredChannels = [.email]
            facts.recentMoods = [Self.complaint(daysAgo: 3)]
        }
        let request = ContactRequest(
            channel: .email, purpose: "marketing", topic: "savings offer", at: Self.night)
        let answer = try ContactGate().decide(request, for: "c-1", facts: facts)
        #expect(!answer.allowed)
        #expect(answer.reasons.map(\.check) == [.consent, .quietHours, .complaint, .doNotContact, .budget, .dismissal, .carePeriod, .channel])
        #expect(answer.reasons.map(\.verdict) == [.blocks, .blocks, .blocks, .passes, .passes, .passes, .passes, .passes])
        // Nothing blocks: plain check order.
        let day = try ContactGate().decide(ContactRequest(channel: .email, purpose: "service", at: Self.noon), for: "c-1", facts: facts)
        #expect(day.reasons.map(\.check) == GateReason.Check.allCases)
        #expect(day.allowed)
    }

    @Test("the JSON form has a verdict per reason beside blocks, message and sources")
    func json() throws {
        let request = ContactRequest(channel: .email, purpose: "marketing", topic: "savings offer", at: Self.noon)
        let answer = try ContactGate().decide(request, for: "c-1", facts: try Self.everything())
        let reasons = try #require(answer.json["reasons"]?.arrayValue)
        #expect(reasons.count == GateReason.Check.allCases.count)
        for (reason, json) in zip(answer.reasons, reasons) {
            #expect(json["check"] == .string(reason.check.rawValue))
            #expect(json["verdict"] == .string(reason.verdict.rawValue))
            #expect(json["blocks"] == .bool(reason.blocks))
            #expect(json["message"] == .string(reason.message))
            #expect(json["sources"]?.arrayValue?.count == reason.sources.count)
        }
        #expect(Set(GateReason.Verdict.allCases.map(\.rawValue)) == ["passes", "blocks", "not_applicable"])
    }

    @Test("the store's answer lists every check too, from the records it reads")
    func store() async throws {
        let folder = try TemporaryFolder()
        let store = try makeStore(clock: ManualClock(try millis("2026-11-01T09:00:00Z")), in: folder)
        try await store.write { writer in
            try writer.createCustomer("c-1")
            try writer.set(.quietHours, to: try QuietHours(input: "21:00-08:00 Europe/Prague", field: "quiet_hours"), of: "c-1")
            try writer.set(.preferredChannels, to: [.branch, .email], of: "c-1")
            try writer.recordConsent(.withdrawn, for: .marketing, source: "branch", at: try at("2026-11-10T09:00:00Z"), of: "c-1")
        }
        let marketing = try store.mayContact("c-1", on: .email, for: "marketing", topic: "savings offer", at: Self.noon)
        Self.expectWellFormed(marketing)
        #expect(marketing.reasons.first?.check == .consent && marketing.reasons.first?.verdict == .blocks)
        #expect(marketing.reason(for: .quietHours).verdict == .passes)
        #expect(marketing.reason(for: .budget).verdict == .notApplicable)
        #expect(marketing.reason(for: .channel).message == "email is a preferred channel (preferred: branch, email)")
        let service = try store.mayContact("c-1", on: .email, for: "service", at: Self.noon)
        Self.expectWellFormed(service)
        #expect(service.allowed && service.reason(for: .consent).verdict == .notApplicable)
    }

    /// One reason per check, blocking first then check order; the answer is no exactly when one blocks.
    static func expectWellFormed(_ answer: ContactDecision, sourceLocation: SourceLocation = #_sourceLocation) {
        let checks = answer.reasons.map(\.check)
        #expect(checks.count == GateReason.Check.allCases.count, sourceLocation: sourceLocation)
        #expect(Set(checks) == Set(GateReason.Check.allCases), sourceLocation: sourceLocation)
        let blocking = answer.reasons.prefix { $0.blocks }
        let others = answer.reasons.dropFirst(blocking.count)
        #expect(!others.contains { $0.blocks }, "blocking reasons first", sourceLocation: sourceLocation)
        let rank = { (check: GateReason.Check) in GateReason.Check.allCases.firstIndex(of: check) ?? -1 }
        for group in [Array(blocking), Array(others)] {
            #expect(group.map { rank($0.check) } == group.map { rank($0.check) }.sorted(), "check order", sourceLocation: sourceLocation)
        }
        for check in GateReason.Check.allCases { #expect(answer.reason(for: check).check == check, sourceLocation: sourceLocation) }
        #expect(answer.allowed == blocking.isEmpty, sourceLocation: sourceLocation)
        #expect(answer.reasons.allSatisfy { !$0.message.isEmpty }, sourceLocation: sourceLocation)
    }
}
