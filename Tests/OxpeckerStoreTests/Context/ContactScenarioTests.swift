import OxpeckerProtocol
import Testing

@testable import OxpeckerStore

/// The bank's scenarios, as the bank describes them.
@Suite("Customer context: scenarios")
struct ContactScenarioTests {
    @Test("the renovating saver's brief says liquidity, not investment")
    func renovatingSaver() async throws {
        let folder = try TemporaryFolder()
        let clock = ManualClock(try millis("2025-06-01T09:00:00Z"))
        let store = try makeStore(clock: clock, in: folder)
        let renovation = try await store.write { writer -> RecordID in
            try writer.createCustomer("c-saver")
            try writer.set(.preferredName, to: "Jana", of: "c-saver")
            try writer.set(.stage, to: .active, of: "c-saver")
            try writer.set(.segment, to: "high_savings", of: "c-saver")
            try writer.set(.incomeBand, to: .high, of: "c-saver")
            try writer.set(.advisor, to: "a-417", of: "c-saver")
            try writer.addNote(
                NewNote(
                    text: "Keeps large savings with us; asked about term deposits and funds.", author: "a-417", channel: .branch,
                    at: try at("2026-03-02T10:00:00Z"), sentiment: .positive), to: "c-saver")
            return try writer.recordLifeEvent(
                NewLifeEvent(type: .renovation, date: try day("2026-10-01"), source: "customer", confidence: 90, detail: "the whole flat"),
                of: "c-saver")
        }
        let brief = try store.brief(of: "c-saver", at: try at("2026-11-24T10:00:00Z"))

        #expect(brief.needs == ["liquidity"])
        #expect(!brief.needs.contains { $0.contains("invest") })
        #expect(brief.avoid.contains("investment offers"))
        let event = try #require(brief.statements(in: .lifeEvent).first)
        #expect(event.text.contains("liquidity"))
        #expect(event.sources == [.lifeEvent(renovation)])
        // Every statement says where it comes from.
        for statement in brief.statements { #expect(!statement.sources.isEmpty, "\(statement.topic) has no source") }
        // Stage and how long; the advisor who knows them, from the conversation.
        let stage = try #require(brief.statements(in: .relationship).first { $0.topic == "stage" })
        #expect(stage.text.hasPrefix("active for 18 months (since 2025-06-01)"))
        let advisor = try #require(brief.statements(in: .advisor).first)
        #expect(advisor.text.hasPrefix("a-417 knows them"))
        #expect(advisor.sources.contains(.field("advisor")))
    }

    @Test("a customer who withdrew marketing consent is never cleared for marketing, on any channel", arguments: Channel.allCases)
    func withdrawnMarketing(channel: Channel) async throws {
        let folder = try TemporaryFolder()
        var replicas = try Replicas(count: 2, start: try millis("2026-11-01T09:00:00Z"), in: folder)
        try await replicas[0].write { writer in
            try writer.createCustomer("c-1")
            try writer.set(.preferredChannels, to: Channel.allCases, of: "c-1")
            try writer.recordConsent(.granted, for: .marketing, source: "app", at: try at("2026-11-01T09:00:00Z"), of: "c-1")
        }
        try await replicas.syncAll()
        // Offline on both: the customer withdraws at the branch; the app records a grant at the same time.
        replicas.clocks[0].set(try millis("2026-11-10T09:00:00Z"))
        replicas.clocks[1].set(try millis("2026-11-10T09:00:05Z"))
        try await replicas[0].write { try $0.recordConsent(.withdrawn, for: .marketing, source: "branch", of: "c-1") }
        try await replicas[1].write { try $0.recordConsent(.granted, for: .marketing, source: "app", of: "c-1") }
        try await replicas.syncAll()

        for store in replicas.stores {
            #expect(try store.mayUse("c-1", for: .marketing, at: try at("2026-11-20T12:00:00Z")).allowed == false)
            for time in ["2026-11-20T12:00:00Z", "2026-11-21T03:00:00Z", "2027-06-01T12:00:00Z"] {
                for topic in [nil, "savings offer"] as [String?] {
                    let answer = try store.mayContact("c-1", on: channel, for: "marketing", topic: topic, at: try at(time))
                    #expect(!answer.allowed)
                    #expect(answer.reasons.first?.check == .consent)
                }
                // Third-party offers need their own grant, which was never given.
                #expect(try !store.mayContact("c-1", on: channel, for: "third_party_offers", at: try at(time)).allowed)
                // A service message is not marketing.
                #expect(try store.mayContact("c-1", on: channel, for: "service", at: try at(time)).allowed)
            }
        }
        // A known withdrawal binds whatever time it names (fail closed), even asked about a time before it.
        #expect(try !replicas[0].mayContact("c-1", on: channel, for: "marketing", at: try at("2026-11-05T12:00:00Z")).allowed)
    }

    @Test("a withdrawal dated in the future (a typo, a clock ahead) still binds now; a grant dated in the future does not yet count")
    func futureDatedDecisions() async throws {
        let folder = try TemporaryFolder()
        let replicas = try Replicas(count: 1, start: try millis("2026-11-01T09:00:00Z"), in: folder)
        try await replicas[0].write { writer in
            try writer.createCustomer("c-1")
            try writer.recordConsent(.granted, for: .marketing, source: "app", at: try at("2026-11-01T09:00:00Z"), of: "c-1")
            try writer.createCustomer("c-2")
        }
        replicas.clocks[0].set(try millis("2026-11-10T09:00:00Z"))
        try await replicas[0].write { writer in
            try writer.recordConsent(.withdrawn, for: .marketing, source: "branch", at: try at("2027-11-10T09:00:00Z"), of: "c-1")
            try writer.recordConsent(.granted, for: .marketing, source: "app", at: try at("2027-01-01T00:00:00Z"), of: "c-2")
        }
        let now = try at("2026-11-10T10:00:00Z")
        #expect(try !replicas[0].mayUse("c-1", for: .marketing, at: now).allowed, "the withdrawal binds at once")
        #expect(try !replicas[0].mayUse("c-2", for: .marketing, at: now).allowed, "a grant counts only once its time has come")
        #expect(try replicas[0].mayUse("c-2", for: .marketing, at: try at("2027-01-02T00:00:00Z")).allowed)
    }

    /// Quiet hours 21:00–08:00 in the customer's own zone; 06:30 UTC is 07:30 in
    /// Prague in winter (quiet) and 08:30 in summer (not); daylight-saving time
    /// starts on 2026-03-29 in Europe and on 2026-03-08 in New York, ends on 2026-10-25 in Europe.
    @Test(
        "quiet hours hold in the customer's time zone, across daylight-saving changes",
        arguments: [
            ("2026-03-28T06:30:00Z", "Europe/Prague", false, "07:30"),
            ("2026-03-29T06:30:00Z", "Europe/Prague", true, "08:30"),
            ("2026-10-24T06:30:00Z", "Europe/Prague", true, "08:30"),
            ("2026-10-25T06:30:00Z", "Europe/Prague", false, "07:30"),
            ("2026-11-24T20:30:00Z", "Europe/Prague", false, "21:30"),
            ("2026-11-24T19:59:00Z", "Europe/Prague", true, "20:59"),
            ("2026-03-07T12:30:00Z", "America/New_York", false, "07:30"),
            ("2026-03-08T12:30:00Z", "America/New_York", true, "08:30"),
            ("2026-11-24T20:30:00Z", "America/New_York", true, "15:30"),
            ("2026-11-25T01:30:00Z", "America/New_York", false, "20:30 next"),
            ("2026-11-24T02:10:00Z", "Asia/Kathmandu", false, "07:55"),
            ("2026-11-24T02:20:00Z", "Asia/Kathmandu", true, "08:05"),
            ("2026-11-24T07:30:00Z", "Australia/Sydney", false, "18:30 quiet?"),
        ] as [(String, String, Bool, String)])
    func quietHours(time: String, zone: String, allowed: Bool, local: String) async throws {
        let folder = try TemporaryFolder()
        let store = try makeStore(in: folder)
        // Sydney's quiet hours are 18:00–08:00, to check a zone east of the date line in summer time (UTC+11).
        let hours = zone == "Australia/Sydney" ? "18:00-08:00" : zone == "America/New_York" ? "20:00-08:00" : "21:00-08:00"
        try await store.write { writer in
            try writer.createCustomer("c-1")
            try writer.set(.quietHours, to: try QuietHours(input: "\(hours) \(zone)", field: "quiet_hours"), of: "c-1")
        }
        let answer = try store.mayContact("c-1", on: .push, for: "service", at: try at(time))
        #expect(answer.allowed == allowed, "\(time) in \(zone): \(answer.reasons.map(\.message))")
        let reason = try #require(answer.reasons.first { $0.check == .quietHours })
        #expect(reason.message.hasPrefix(String(local.prefix(5)) + " in \(zone)"))
        #expect(reason.sources == [.field("quiet_hours")])
        // A security alert is urgent: quiet hours do not hold it back.
        #expect(try store.mayContact("c-1", on: .push, for: "security", at: try at(time)).allowed)
    }

    @Test("the contact budget counts the contacts made on other devices once they have synced")
    func budgetAcrossDevices() async throws {
        let folder = try TemporaryFolder()
        var replicas = try Replicas(count: 2, start: try millis("2026-11-01T09:00:00Z"), in: folder)
        try await replicas[0].write { writer in
            try writer.createCustomer("c-1")
            try writer.set(.contactBudget, to: try ContactBudget(input: "2/week", field: "contact_budget"), of: "c-1")
            try writer.recordConsent(.granted, for: .marketing, source: "app", of: "c-1")
        }
        try await replicas.syncAll()
        let now = try at("2026-11-24T12:00:00Z")
        // The branch laptop sent an e-mail yesterday; the app backend pushed a message two days ago.
        try await replicas[0].write { writer in
            try writer.recordContact(NewContact(channel: .email, purpose: "marketing", topic: "savings", outcome: .sent, at: try at("2026-11-23T10:00:00Z")), of: "c-1")
            // Neither a failed delivery nor a contact older than the week counts.
            try writer.recordContact(NewContact(channel: .sms, purpose: "marketing", topic: "cards", outcome: .failed, at: try at("2026-11-23T11:00:00Z")), of: "c-1")
            try writer.recordContact(NewContact(channel: .sms, purpose: "marketing", topic: "cards", outcome: .shown, at: try at("2026-11-10T11:00:00Z")), of: "c-1")
        }
        let appContact = try await replicas[1].write { writer in
            try writer.recordContact(NewContact(channel: .push, purpose: "service", topic: "new app", outcome: .shown, at: try at("2026-11-22T10:00:00Z")), of: "c-1")
        }
        // Before sync each device sees one contact of two.
        for store in replicas.stores {
            let answer = try store.mayContact("c-1", on: .sms, for: "marketing", at: now)
            #expect(answer.allowed, "\(answer.reasons.map(\.message))")
            #expect(answer.reasons.contains { $0.check == .budget && $0.message.hasPrefix("1 of 2") })
        }
        try await replicas.syncAll()
        for store in replicas.stores {
            let answer = try store.mayContact("c-1", on: .sms, for: "marketing", at: now)
            #expect(!answer.allowed)
            let budget = try #require(answer.reasons.first)
            #expect(budget.check == .budget && budget.blocks)
            #expect(budget.message.contains("2 of 2"))
            #expect(budget.sources.contains(.contact(appContact)))
        }
        // A week after the older one, there is room again.
        #expect(try replicas[1].mayContact("c-1", on: .sms, for: "marketing", at: try at("2026-11-29T10:30:00Z")).allowed)
    }

    @Test("a recent dismissal of the same topic, a bereavement and a complaint in progress hold offers back")
    func dismissalCareAndComplaint() async throws {
        let folder = try TemporaryFolder()
        let store = try makeStore(clock: ManualClock(try millis("2026-11-01T09:00:00Z")), in: folder)
        let (dismissed, bereavement, complaint) = try await store.write { writer in
            try writer.createCustomer("c-1")
            try writer.recordConsent(.granted, for: .marketing, source: "app", of: "c-1")
            let dismissed = try writer.recordContact(
                NewContact(channel: .push, purpose: "marketing", topic: "Savings offer", outcome: .dismissed, at: try at("2026-11-10T10:00:00Z")), of: "c-1")
            let bereavement = try writer.recordLifeEvent(NewLifeEvent(type: .bereavement, date: try day("2026-09-01"), source: "branch"), of: "c-1")
            let complaint = try writer.addNote(
                NewNote(text: "Card blocked abroad twice", author: "a-9", channel: .phone, at: try at("2026-11-15T10:00:00Z"), sentiment: .complaint), to: "c-1")
            return (dismissed, bereavement, complaint)
        }
        let now = try at("2026-11-24T12:00:00Z")
        let offer = try store.mayContact("c-1", on: .email, for: "marketing", topic: "savings offer ", at: now)
        #expect(!offer.allowed)
        let blocking = offer.reasons.filter(\.blocks)
        #expect(blocking.map(\.check) == [.dismissal, .carePeriod, .complaint])
        #expect(blocking.map(\.sources) == [[.contact(dismissed)], [.lifeEvent(bereavement)], [.note(complaint)]])
        // Another topic is not held back by the dismissal, but still by the care period and the complaint.
        let other = try store.mayContact("c-1", on: .email, for: "marketing", topic: "mortgage", at: now)
        #expect(other.reasons.filter(\.blocks).map(\.check) == [.carePeriod, .complaint])
        // Service is not an offer: allowed, with the cautions; the checks with nothing to go on say they do not apply.
        let service = try store.mayContact("c-1", on: .phone, for: "service", at: now)
        #expect(service.allowed)
        #expect(service.reasons.map(\.check) == GateReason.Check.allCases)
        #expect(service.reasons.filter { $0.verdict == .notApplicable }.map(\.check) == [.consent, .quietHours, .budget, .channel])
        let care = service.reason(for: .carePeriod)
        #expect(care.verdict == .passes && care.message.hasSuffix("(contact with care)") && care.sources == [.lifeEvent(bereavement)])
        let acknowledge = service.reason(for: .complaint)
        #expect(acknowledge.verdict == .passes && acknowledge.message.hasSuffix("acknowledge it first") && acknowledge.sources == [.note(complaint)])
        // A positive conversation after the complaint closes it.
        try await store.write { writer in
            try writer.addNote(NewNote(text: "Sorted out the card", author: "a-9", channel: .phone, at: try at("2026-11-20T10:00:00Z"), sentiment: .positive), to: "c-1")
        }
        let closed = try store.mayContact("c-1", on: .email, for: "marketing", topic: "mortgage", at: now).reason(for: .complaint)
        #expect(closed.verdict == .passes && closed.message == "no complaint in progress" && closed.sources.isEmpty)
        // Half a year after the bereavement, offers may resume.
        #expect(try store.mayContact("c-1", on: .email, for: "marketing", topic: "mortgage", at: try at("2027-03-01T12:00:00Z")).allowed)
    }

    @Test("do-not-contact holds every purpose, even urgent ones; unknown purposes and customers are errors")
    func doNotContactAndErrors() async throws {
        let folder = try TemporaryFolder()
        let store = try makeStore(in: folder)
        try await store.write { writer in
            try writer.createCustomer("c-1")
            try writer.set(.doNotContact, to: true, of: "c-1")
        }
        let now = try at("2026-11-24T12:00:00Z")
        for purpose in ContextRules.standard.purposes.keys {
            let answer = try store.mayContact("c-1", on: .email, for: purpose, at: now)
            #expect(!answer.allowed && answer.reasons.first?.check == .doNotContact)
        }
        #expect(throws: StoreError.self) { try store.mayContact("c-1", on: .email, for: "spam", at: now) }
        #expect(throws: StoreError.unknownCustomer("c-2")) { try store.mayContact("c-2", on: .email, for: "service", at: now) }
        #expect(throws: StoreError.unknownCustomer("c-2")) { try store.mayUse("c-2", for: .marketing, at: now) }
    }
}
