import OxpeckerProtocol
import Testing

@testable import OxpeckerStore

@Suite("Customer context on replicas")
struct ContextConvergenceTests {
    /// Random operations on 2–4 replicas, exchanged in random partial rounds, then
    /// fully: every replica gives the same brief, gate answers and signals at a fixed time.
    @Test("briefs, gates and signals give the same answer on every replica after sync", arguments: [1, 2, 3, 7, 42, 2026] as [UInt64])
    func sameAnswerEverywhere(seed: UInt64) async throws {
        var random = SeededGenerator(seed: seed)
        let folder = try TemporaryFolder()
        let count = Int.random(in: 2...4, using: &random)
        var replicas = try Replicas(count: count, start: try millis("2026-09-01T08:00:00Z"), in: folder)
        let customers: [CustomerID] = ["c-0", "c-1", "c-2"]
        try await replicas[0].write { writer in for id in customers { try writer.createCustomer(id) } }
        try await replicas.syncAll()
        let zones = ["Europe/Prague", "America/New_York", "Asia/Kathmandu"]
        let authors = ["a-1", "a-2", "a-3", "a-4"]
        let topics = ["late fee", "savings offer", "autopay", "mortgage"]

        for _ in 0..<120 {
            let index = Int.random(in: 0..<count, using: &random)
            replicas.clocks[index].advance(Int64.random(in: 0...(3 * 86_400_000), using: &random))
            let now = replicas.clocks[index].wallClock.now()
            let customer = customers.randomElement(using: &random)!
            let roll = Int.random(in: 0..<14, using: &random)
            let pick = Int.random(in: 0..<10_000, using: &random)
            let when = Instant(millisecondsSince1970: now - Int64(pick % 20) * 86_400_000)
            let known = try await replicas[index].read { try $0.notes(of: customer, limit: 100) }.filter { $0.redaction == nil }.map(\.id)
            let redacted = known.randomElement(using: &random)
            try await replicas[index].write { writer in
                switch roll {
                case 0: try writer.set(.stage, to: Stage.allCases[pick % Stage.allCases.count], of: customer)
                case 1: try writer.set(.advisor, to: authors[pick % authors.count], of: customer)
                case 2: try writer.set(.preferredChannels, to: [Channel.allCases[pick % 8], Channel.allCases[(pick / 8) % 8]].uniqued, of: customer)
                case 3: try writer.set(.quietHours, to: try QuietHours(input: "2\(pick % 4):00-0\(pick % 9):30 \(zones[pick % 3])", field: "quiet_hours"), of: customer)
                case 4: try writer.set(.contactBudget, to: try ContactBudget(maxContacts: pick % 4, period: BudgetPeriod.allCases[pick % 4]), of: customer)
                case 5: try writer.set(.doNotContact, to: pick % 5 == 0, of: customer)
                case 6, 7:
                    try writer.recordConsent(
                        pick % 2 == 0 ? .granted : .withdrawn, for: ConsentPurpose.allCases[pick % ConsentPurpose.allCases.count],
                        source: "r\(index)", at: when, of: customer)
                case 8:
                    try writer.recordLifeEvent(
                        NewLifeEvent(
                            type: LifeEventType.allCases[pick % LifeEventType.allCases.count], date: when.utcDay, source: "r\(index)",
                            confidence: pick % 101), of: customer)
                case 9, 10:
                    try writer.addNote(
                        NewNote(
                            text: "note \(pick)", author: authors[pick % authors.count], channel: Channel.allCases[pick % 8], at: when,
                            sentiment: pick % 3 == 0 ? nil : Sentiment.allCases[pick % Sentiment.allCases.count],
                            followUp: pick % 4 == 0 ? LocalDate(daysSince1970: when.utcDay.daysSince1970 + pick % 30) : nil), to: customer)
                case 11:
                    if let redacted { try writer.redactNote(redacted, by: "a-\(index)") }
                default:
                    try writer.recordContact(
                        NewContact(
                            channel: Channel.allCases[pick % 8], purpose: ["marketing", "service", "advice", "security"][pick % 4],
                            topic: topics[pick % topics.count], outcome: ContactOutcome.allCases[pick % ContactOutcome.allCases.count],
                            at: when), of: customer)
                }
            }
            if Int.random(in: 0..<5, using: &random) == 0 {
                // A partial exchange: this replica pushes, and another catches up.
                try await replicas.push(index)
                try await replicas[Int.random(in: 0..<count, using: &random)].apply(replicas.log)
            }
        }
        try await replicas.syncAll()

        let time = try at("2027-01-15T07:45:00Z")
        var answers: [[String]] = []
        for store in replicas.stores {
            answers.append(
                try store.readNow { reader in
                    var lines: [String] = []
                    for customer in customers {
                        lines.append(try reader.brief(of: customer, at: time).json.canonicalText)
                        for purpose in ["marketing", "service", "security", "third_party_offers"] {
                            for channel in [Channel.sms, .email, .branch] {
                                lines.append(try reader.mayContact(customer, on: channel, for: purpose, topic: "late fee", at: time).json.canonicalText)
                            }
                        }
                        for purpose in ConsentPurpose.allCases {
                            lines.append(try reader.mayUse(customer, for: purpose, at: time).json.canonicalText)
                        }
                    }
                    lines += try reader.signals(at: time).map(\.json.canonicalText)
                    return lines
                })
        }
        for (index, lines) in answers.enumerated().dropFirst() {
            #expect(lines.count == answers[0].count)
            for (left, right) in zip(answers[0], lines) where left != right {
                Issue.record("replica \(index) differs (seed \(seed)):\n\(left)\n\(right)")
                break
            }
        }
    }
}

extension Array where Element == Channel {
    /// The channels without repeats, in order.
    var uniqued: [Channel] {
        var seen: Set<Channel> = []
        return filter { seen.insert($0).inserted }
    }
}
