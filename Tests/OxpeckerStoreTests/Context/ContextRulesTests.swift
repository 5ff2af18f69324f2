import OxpeckerProtocol
import Testing

@testable import OxpeckerStore

@Suite("Customer context: rules as data")
struct ContextRulesTests {
    @Test("the rules' JSON form reads back as the same rules")
    func roundTrip() throws {
        let json = ContextRules.standard.json
        #expect(json["dismissal_quiet_days"] == .integer(30))
        #expect(json["default_budget"] == .null)
        #expect(try ContextRules.standard.overriding(with: json) == .standard)
        #expect(try ContextRules.standard.overriding(with: [:]) == .standard)
    }

    @Test("a bank changes thresholds and meanings by configuration, entry by entry")
    func overrides() throws {
        let rules = try ContextRules.standard.overriding(
            with: try JSONValue(
                parsing: """
                    {"dismissal_quiet_days": 60, "default_budget": "4/month",
                     "life_events": {"renovation": {"care_days": 14},
                                     "lottery_win": {"needs": ["advice"], "avoid": [], "meaning": "windfall", "next_step": "call", "care_days": 0},
                                     "inheritance": null},
                     "purposes": {"survey": {"consent": "analytics", "offer": false, "urgent": false}}}
                    """))
        #expect(rules.dismissalQuietDays == 60)
        #expect(rules.parsedDefaultBudget == (try ContactBudget(input: "4/month", field: "x")))
        #expect(rules.lifeEvents["renovation"]?.careDays == 14)
        #expect(rules.lifeEvents["renovation"]?.needs == ["liquidity"])
        #expect(rules.lifeEvents["lottery_win"]?.meaning == "windfall")
        #expect(rules.lifeEvents["inheritance"] == nil)
        #expect(rules.purposes["survey"]?.consent == "analytics")
        #expect(rules.purposes["marketing"] == ContextRules.standard.purposes["marketing"])
    }

    @Test(
        "a bad rules document is refused with what is wrong",
        arguments: [
            (#"{"dismisal_quiet_days": 3}"#, "unknown rule 'dismisal_quiet_days'"),
            (#"{"dismissal_quiet_days": "soon"}"#, "dismissal_quiet_days"),
            (#"{"quiet_factor": 0}"#, "quiet_factor"),
            (#"{"life_events": {"renovation": {"care_dayz": 3}}}"#, "unknown key 'care_dayz'"),
            (#"{"life_events": {"lottery_win": {"needs": []}}}"#, "missing 'avoid'"),
            (#"{"purposes": {"spam": {"consent": "everything", "offer": true, "urgent": false}}}"#, "'everything' is not one of"),
            (#"{"default_quiet_hours": "21:00-08:00 Mars/Olympus"}"#, "unknown time zone"),
            (#"{"unrecorded_consent": {"marketing": "maybe"}}"#, "unrecorded_consent"),
            (#"[1, 2]"#, "expected a JSON object"),
        ] as [(String, String)])
    func badDocuments(document: String, message: String) throws {
        let error = try #require(throws: StoreError.self) {
            try ContextRules.standard.overriding(with: try JSONValue(parsing: document))
        }
        #expect(error.description.contains(message), "\(error)")
    }

    @Test("thresholds from configuration change the gate's answer without a rebuild")
    func configuredGate() async throws {
        let folder = try TemporaryFolder()
        let store = try makeStore(clock: ManualClock(try millis("2026-10-01T09:00:00Z")), in: folder)
        try await store.write { writer in
            try writer.createCustomer("c-1")
            try writer.recordContact(
                NewContact(channel: .sms, purpose: "service", topic: "app update", outcome: .dismissed, at: try at("2026-10-10T10:00:00Z")), of: "c-1")
        }
        let now = try at("2026-11-24T12:00:00Z")
        #expect(try store.mayContact("c-1", on: .sms, for: "service", topic: "app update", at: now).allowed)
        let patient = try ContextRules.standard.overriding(with: ["dismissal_quiet_days": 60, "default_quiet_hours": "20:00-09:00 Europe/Prague"])
        let answer = try store.mayContact("c-1", on: .sms, for: "service", topic: "App Update", at: now, rules: patient)
        #expect(answer.reasons.filter(\.blocks).map(\.check) == [.dismissal])
        #expect(answer.reasons.contains { $0.check == .quietHours && $0.sources == [.rule("default_quiet_hours")] })
        let quietEvening = try store.mayContact("c-1", on: .sms, for: "service", topic: "statement", at: try at("2026-11-24T19:30:00Z"), rules: patient)
        #expect(quietEvening.reasons.filter(\.blocks).map(\.check) == [.quietHours])
    }
}
