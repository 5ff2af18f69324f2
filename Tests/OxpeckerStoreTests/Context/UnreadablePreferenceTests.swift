import GRDB
import OxpeckerProtocol
import Testing

@testable import OxpeckerStore

/// The contact gate fails closed: a contact preference it cannot read (a newer
/// peer's form, a time zone this machine does not know, a damaged row) says no,
/// and says why, instead of counting as unset.
@Suite("Customer context: a preference the gate cannot read says no")
struct UnreadablePreferenceTests {
    /// 13:00 in Prague: outside the quiet hours below.
    static let noon = "2026-11-24T12:00:00Z"

    /// A store with customer c-1 whose `field` is `valid`, then, written behind the store's back, `stored`.
    static func customer(with field: String, valid: JSONValue, stored: String, in folder: TemporaryFolder) async throws -> CustomerStore {
        let store = try makeStore(in: folder)
        try await store.write { writer in
            try writer.createCustomer("c-1")
            try writer.set(try #require(FieldCatalog.descriptor(named: field)), to: valid, of: "c-1")
        }
        #expect(try store.mayContact("c-1", on: .email, for: "service", at: try at(noon)).allowed, "readable, \(field) lets it through")
        try await DatabaseQueue(path: store.path).write { db in
            try db.execute(sql: "UPDATE field_value SET value = ? WHERE customer_id = 'c-1' AND field = ?", arguments: [stored, field])
            #expect(db.changesCount == 1)
        }
        return store
    }

    @Test(
        "an unreadable do_not_contact, quiet_hours or contact_budget says no to a service contact, naming the field and the problem",
        arguments: [
            ("do_not_contact", false as JSONValue, #""yes""#, GateReason.Check.doNotContact, "expected true or false"),
            ("do_not_contact", false, "{", .doNotContact, "not JSON"),
            ("quiet_hours", ["start": "21:00", "end": "08:00", "time_zone": "Europe/Prague"],
             #"{"end":"08:00","start":"21:00","time_zone":"Mars/Olympus_Mons"}"#, .quietHours, "unknown time zone 'Mars/Olympus_Mons'"),
            ("quiet_hours", ["start": "21:00", "end": "08:00", "time_zone": "Europe/Prague"],
             #"{"days":"weekdays","end":"08:00","start":"21:00","time_zone":"Europe/Prague"}"#, .quietHours, "expected {"),
            ("contact_budget", ["max_contacts": 3, "period": "month"], #"{"max_contacts":3,"period":"fortnight"}"#, .budget, "fortnight"),
        ] as [(String, JSONValue, String, GateReason.Check, String)])
    func unreadableSaysNo(field: String, valid: JSONValue, stored: String, check: GateReason.Check, problem: String) async throws {
        let folder = try TemporaryFolder()
        let store = try await Self.customer(with: field, valid: valid, stored: stored, in: folder)
        let answer = try store.mayContact("c-1", on: .email, for: "service", at: try at(Self.noon))
        #expect(!answer.allowed)
        let reason = try #require(answer.reasons.first)
        #expect(reason.check == check && reason.blocks)
        #expect(reason.message.hasPrefix("\(field) cannot be read (") && reason.message.contains(problem), "\(reason.message)")
        #expect(reason.sources == [.field(field)])
        #expect(answer.reasons.filter { $0.check == check }.count == 1, "one answer per check, not a default's too")
        // Every device with the same state answers the same: a function of state and time.
        #expect(try await store.read { try $0.mayContact("c-1", on: .email, for: "service", at: try at(Self.noon)) } == answer)
    }

    @Test("an urgent contact is held back by an unreadable do_not_contact, not by unreadable quiet hours or budget (which never hold it)")
    func urgentContacts() async throws {
        let folder = try TemporaryFolder()
        let hours = try await Self.customer(
            with: "quiet_hours", valid: ["start": "21:00", "end": "08:00", "time_zone": "Europe/Prague"],
            stored: #"{"end":"08:00","start":"21:00","time_zone":"Mars/Olympus_Mons"}"#, in: folder)
        #expect(try hours.mayContact("c-1", on: .sms, for: "security", at: try at(Self.noon)).allowed)
        let other = try TemporaryFolder()
        let flag = try await Self.customer(with: "do_not_contact", valid: false, stored: "1", in: other)
        let answer = try flag.mayContact("c-1", on: .sms, for: "security", at: try at(Self.noon))
        #expect(!answer.allowed && answer.reasons.first?.check == .doNotContact)
    }

    @Test("unreadable preferred channels say no where only preferred channels may be used, and are noted elsewhere")
    func unreadableChannels() async throws {
        let folder = try TemporaryFolder()
        let store = try await Self.customer(with: "preferred_channels", valid: ["email"], stored: #"["carrier_pigeon"]"#, in: folder)
        let noted = try store.mayContact("c-1", on: .email, for: "service", at: try at(Self.noon))
        #expect(noted.allowed, "the standard rules let any channel through: no value could have said no")
        #expect(noted.reasons.contains { $0.check == .channel && !$0.blocks && $0.message.contains("carrier_pigeon") })
        var strict = ContextRules.standard
        strict.onlyPreferredChannels = true
        let answer = try store.mayContact("c-1", on: .email, for: "service", at: try at(Self.noon), rules: strict)
        #expect(!answer.allowed && answer.reasons.first?.check == .channel)
    }

    @Test("a cleared preference is unset, not unreadable")
    func clearedIsUnset() async throws {
        let folder = try TemporaryFolder()
        let store = try makeStore(in: folder)
        try await store.write { writer in
            try writer.createCustomer("c-1")
            try writer.set(.doNotContact, to: true, of: "c-1")
            try writer.set(.doNotContact, to: nil, of: "c-1")
        }
        #expect(try store.mayContact("c-1", on: .email, for: "service", at: try at(Self.noon)).allowed)
    }

    @Test("default quiet hours or budget in rules made in code that cannot be read say no")
    func unreadableDefaults() async throws {
        let folder = try TemporaryFolder()
        let store = try makeStore(in: folder)
        try await store.write { try $0.createCustomer("c-1") }
        var rules = ContextRules.standard
        rules.defaultQuietHours = "21:00-08:00 Mars/Olympus_Mons"
        let hours = try store.mayContact("c-1", on: .email, for: "service", at: try at(Self.noon), rules: rules)
        #expect(!hours.allowed && hours.reasons.first?.check == .quietHours && hours.reasons.first?.message.contains("Mars") == true)
        rules = .standard
        rules.defaultBudget = "three a month"
        let budget = try store.mayContact("c-1", on: .email, for: "service", at: try at(Self.noon), rules: rules)
        #expect(!budget.allowed && budget.reasons.first?.check == .budget)
    }
}
