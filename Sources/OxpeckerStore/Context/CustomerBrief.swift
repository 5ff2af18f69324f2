import OxpeckerProtocol

/// What a person should know before any contact with a customer, each statement
/// with the records it comes from. Get one from ``StoreReader/brief(of:at:rules:model:)``.
public struct CustomerBrief: Sendable, Hashable {
    public let customer: CustomerID
    public let displayName: String
    /// The time the brief is for.
    public let at: Instant
    /// What the customer's recent life events say they need now, like `liquidity`
    /// (empty when profiling is not allowed).
    public let needs: [String]
    /// What not to propose now, like `investment offers`.
    public let avoid: [String]
    /// The statements, in section order.
    public let statements: [BriefStatement]

    /// The statements of one section.
    public func statements(in section: BriefStatement.Section) -> [BriefStatement] {
        statements.filter { $0.section == section }
    }
}

/// One statement of a brief.
public struct BriefStatement: Sendable, Hashable {
    /// The part of the brief it belongs to, in the order a person reads them.
    public enum Section: String, Sendable, Hashable, CaseIterable {
        case caution
        case relationship
        case advisor
        case contact
        case lifeEvent = "life_event"
        case followUp = "follow_up"
        case complaint
        case consent
        case model
    }

    public let section: Section
    /// What it is about, stable for programs: `stage`, `advisor_continuity`, `life_event.renovation` …
    public let topic: String
    /// The statement, for a person.
    public let text: String
    /// The records it comes from.
    public let sources: [SourceRef]

    public init(section: Section, topic: String, text: String, sources: [SourceRef]) {
        self.section = section
        self.topic = topic
        self.text = text
        self.sources = sources
    }
}

extension CustomerBrief {
    /// The brief as canonical-JSON-ready data: snake_case keys, sources as `{kind, id}`.
    public var json: JSONValue {
        [
            "customer": .string(customer.rawValue),
            "display_name": .string(displayName),
            "at": .string(at.description),
            "needs": .array(needs.map(JSONValue.string)),
            "avoid": .array(avoid.map(JSONValue.string)),
            "statements": .array(statements.map(\.json)),
        ]
    }
}

extension BriefStatement {
    public var json: JSONValue {
        [
            "section": .string(section.rawValue), "topic": .string(topic), "text": .string(text),
            "sources": .array(sources.map(\.json)),
        ]
    }
}

/// Human durations: `12 days`, `5 weeks`, `4 months`, `2 years`.
enum DurationText {
    static func days(_ count: Int) -> String {
        switch count {
        case ..<1: "less than a day"
        case 1: "1 day"
        case ..<28: "\(count) days"
        case ..<61: "\(count / 7) weeks"
        case ..<730: "\(count / 30) months"
        default: "\(count / 365) years"
        }
    }

    /// Whole days from `start` to `end`.
    static func daysBetween(_ start: Instant, _ end: Instant) -> Int {
        Int((end.millisecondsSince1970 - start.millisecondsSince1970).floorDivided(by: Instant.millisecondsPerDay))
    }
}
