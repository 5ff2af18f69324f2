import OxpeckerProtocol
import Testing

@testable import OxpeckerStore

@Suite("Customer context: signals")
struct SignalTests {
    let folder: TemporaryFolder
    let store: CustomerStore
    let now: Instant

    init() throws {
        folder = try TemporaryFolder()
        store = try makeStore(clock: ManualClock(try millis("2026-01-01T09:00:00Z")), in: folder)
        now = try at("2026-11-24T12:00:00Z")
    }

    private func kinds(_ customer: CustomerID, rules: ContextRules = .standard, model: (any CustomerInsightModel)? = nil) throws -> [Signal.Kind] {
        try store.readNow { try $0.signals(of: customer, at: now, rules: rules, model: model) }.map(\.kind)
    }

    private func note(_ customer: CustomerID, _ time: String, author: String = "a-417", followUp: String? = nil, writer: StoreWriter) throws {
        try writer.addNote(
            NewNote(text: "talked", author: author, channel: .phone, at: try at(time), followUp: try followUp.map(day)), to: customer)
    }

    @Test("going quiet is measured against the customer's own rhythm, not a fixed number of days")
    func goingQuiet() async throws {
        try await store.write { writer in
            // A customer who talks to us every few days, silent for three months: quiet.
            try writer.createCustomer("c-weekly")
            for week in 0..<8 { try note("c-weekly", "2026-08-\(String(format: "%02d", 1 + week * 3))T10:00:00Z", writer: writer) }
            // A customer who talks to us every two months, silent for five weeks: that is their rhythm.
            try writer.createCustomer("c-bimonthly")
            for month in ["2026-01-15", "2026-03-15", "2026-05-15", "2026-07-15", "2026-09-15", "2026-10-20"] {
                try note("c-bimonthly", "\(month)T10:00:00Z", writer: writer)
            }
        }
        // The weekly customer's last note was on 2026-08-22 (every 3 days); silent three months.
        let signals = try store.readNow { try $0.signals(of: "c-weekly", at: now) }
        let quiet = try #require(signals.first { $0.kind == .goingQuiet })
        #expect(quiet.reason.contains("usually active every 3 days"))
        #expect(quiet.sources.count == 1)
        #expect(try !kinds("c-bimonthly").contains(.goingQuiet))
    }

    @Test("repeated late fees suggest autopay, once")
    func recurringPain() async throws {
        try await store.write { writer in
            try writer.createCustomer("c-1")
            for date in ["2026-08-05", "2026-09-05", "2026-10-05"] {
                try writer.recordContact(NewContact(channel: .sms, purpose: "service", topic: "Late fee charged", outcome: .shown, at: try at("\(date)T08:00:00Z")), of: "c-1")
            }
        }
        let signal = try #require(try store.readNow { try $0.signals(of: "c-1", at: now) }.first { $0.kind == .recurringPain })
        #expect(signal.reason.hasPrefix("3 contacts about late fee"))
        #expect(signal.nextStep.contains("autopay"))
        #expect(signal.sources.count == 3)
        try await store.write { writer in
            try writer.recordContact(NewContact(channel: .phone, purpose: "advice", topic: "Autopay setup", outcome: .declined, at: try at("2026-11-01T08:00:00Z")), of: "c-1")
        }
        #expect(try !kinds("c-1").contains(.recurringPain))
    }

    @Test("a life event with no conversation since is a signal, with what to do; a conversation ends it")
    func lifeEventWithoutFollowUp() async throws {
        try await store.write { writer in
            try writer.createCustomer("c-1")
            try writer.recordLifeEvent(NewLifeEvent(type: .bereavement, date: try day("2026-11-10"), source: "relative"), of: "c-1")
        }
        let signal = try #require(try store.readNow { try $0.signals(of: "c-1", at: now) }.first)
        #expect(signal.kind == .lifeEventWithoutFollowUp)
        #expect(signal.nextStep.contains("no offers"))
        // The proposed contact is advice, which the gate allows with care.
        #expect(signal.contact.allowed)
        let care = signal.contact.reason(for: .carePeriod)
        #expect(care.verdict == .passes && care.message.hasPrefix("bereavement on 2026-11-10") && care.message.hasSuffix("(contact with care)"))
        try await store.write { writer in try note("c-1", "2026-11-12T10:00:00Z", writer: writer) }
        #expect(try !kinds("c-1").contains(.lifeEventWithoutFollowUp))
    }

    @Test("an overdue follow-up and three different advisors in a row are signals")
    func followUpAndContinuity() async throws {
        try await store.write { writer in
            try writer.createCustomer("c-1")
            try writer.set(.advisor, to: "a-1", of: "c-1")
            try note("c-1", "2026-10-01T10:00:00Z", author: "a-1", writer: writer)
            try note("c-1", "2026-10-15T10:00:00Z", author: "a-2", writer: writer)
            try note("c-1", "2026-11-01T10:00:00Z", author: "a-3", followUp: "2026-11-15", writer: writer)
        }
        let signals = try store.readNow { try $0.signals(of: "c-1", at: now) }
        #expect(signals.map(\.kind) == [.followUpOverdue, .continuityBroken])
        #expect(signals[1].nextStep.contains("a-1"))
        // The brief shows the follow-up too, as overdue.
        let brief = try store.brief(of: "c-1", at: now)
        #expect(brief.statements(in: .followUp).map(\.text).first?.hasPrefix("follow-up overdue since 2026-11-15") == true)
        // Later conversations with the assigned advisor close both.
        try await store.write { writer in
            try note("c-1", "2026-11-18T10:00:00Z", author: "a-1", writer: writer)
            try note("c-1", "2026-11-20T10:00:00Z", author: "a-1", writer: writer)
        }
        #expect(try kinds("c-1").isEmpty)
    }

    @Test("a customer who withdrew profiling consent gets no profiling-derived signals, and no model insight")
    func profilingWithdrawn() async throws {
        try await store.write { writer in
            try writer.createCustomer("c-1")
            for date in ["2026-08-05", "2026-09-05", "2026-10-05"] {
                try writer.recordContact(NewContact(channel: .sms, purpose: "service", topic: "late fee", outcome: .accepted, at: try at("\(date)T08:00:00Z")), of: "c-1")
            }
            for day in 1...6 { try note("c-1", "2026-07-0\(day)T10:00:00Z", writer: writer) }
        }
        #expect(try kinds("c-1", model: EveryoneModel()) == [.goingQuiet, .recurringPain, .model])
        #expect(try store.brief(of: "c-1", at: now, model: EveryoneModel()).statements(in: .model).count == 1)
        try await store.write { try $0.recordConsent(.withdrawn, for: .profiling, source: "app", at: try at("2026-11-01T00:00:00Z"), of: "c-1") }
        #expect(try kinds("c-1", model: EveryoneModel()).isEmpty)
        #expect(try store.brief(of: "c-1", at: now, model: EveryoneModel()).statements(in: .model).isEmpty)
        // A bank that needs a grant for profiling says so in its rules.
        let optIn = try ContextRules.standard.overriding(with: ["unrecorded_consent": ["profiling": "denied"]])
        try await store.write { writer in
            try writer.createCustomer("c-2")
            for day in 1...6 { try note("c-2", "2026-07-0\(day)T10:00:00Z", writer: writer) }
        }
        #expect(try kinds("c-2") == [.goingQuiet])
        #expect(try kinds("c-2", rules: optIn).isEmpty)
    }

    @Test("signals respect the contact gate: a do-not-contact customer's next step says not now, and why")
    func respectsGate() async throws {
        try await store.write { writer in
            try writer.createCustomer("c-1")
            try writer.set(.doNotContact, to: true, of: "c-1")
            try writer.add("branch:HN01", to: .scopes, of: "c-1")
            try writer.recordLifeEvent(NewLifeEvent(type: .newChild, date: try day("2026-11-01"), source: "customer"), of: "c-1")
            try writer.createCustomer("c-2")
            try writer.recordLifeEvent(NewLifeEvent(type: .newChild, date: try day("2026-11-01"), source: "customer"), of: "c-2")
        }
        let signals = try store.signals(in: "branch:HN01", at: now)
        #expect(signals.map(\.customer) == ["c-1"])
        #expect(!signals[0].contact.allowed)
        #expect(signals[0].nextStep.contains("but not by phone now: the customer asked not to be contacted"))
        #expect(try store.signals(at: now).map(\.customer) == ["c-1", "c-2"])
    }
}

/// A bank model that says the same of everyone.
struct EveryoneModel: CustomerInsightModel {
    let name = "test-model"
    func insights(for context: CustomerContext, at time: Instant) -> [ModelInsight] {
        [ModelInsight(text: "likes sailing", nextStep: "mention the regatta", sources: [.field("interests")])]
    }
}
