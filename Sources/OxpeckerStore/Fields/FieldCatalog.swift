import OxpeckerProtocol

/// What part of a customer's context a field belongs to.
public enum FieldSection: String, Sendable, CaseIterable {
    case identity, profile, journey
    case contactPreferences = "contact_preferences"
    case psychographics, access
}

/// A profile field as declared: its wire name, merge rule, value type, and meaning.
public struct FieldDescriptor: Sendable, Hashable {
    /// The field's name on the wire, in storage and on the command line.
    public let name: String
    /// How concurrent writes to the field merge.
    public let kind: MergeKind
    /// What values the field accepts.
    public let type: FieldType
    /// The part of the context it belongs to.
    public let section: FieldSection
    /// One line on what the field is for.
    public let summary: String

    /// Whether the field is a set (add/remove elements) rather than a single value.
    public var isSet: Bool { kind == .addWinsSet }
}

/// Every profile field of a customer, declared once: name, merge rule, type, meaning.
/// Everything else (typed keys, validation, the CLI, export) reads this table.
public enum FieldCatalog {
    private static func field(
        _ name: String, _ kind: MergeKind, _ type: FieldType, _ section: FieldSection, _ summary: String
    ) -> FieldDescriptor {
        FieldDescriptor(name: name, kind: kind, type: type, section: section, summary: summary)
    }

    private static let shortText = FieldType.text(maxLength: 200)
    private static let longText = FieldType.text(maxLength: 2000)

    /// All fields, in the order people read them.
    public static let all: [FieldDescriptor] = [
        field("created_at", .register, .instant, .profile, "when the customer was first recorded"),
        field("legal_name", .guardedRegister, shortText, .identity, "full legal name"),
        field("birth_date", .guardedRegister, .date, .identity, "date of birth"),
        field("tax_residence", .guardedRegister, .text(maxLength: 64), .identity, "country of tax residence"),
        field("preferred_name", .register, shortText, .profile, "the name the customer likes to be called"),
        field("language", .register, .text(maxLength: 35), .profile, "preferred language, a BCP 47 tag like cs or en-GB"),
        field("income_band", .register, .choice(IncomeBand.rawValues), .profile, "yearly income band"),
        field("segment", .register, .text(maxLength: 64), .profile, "the bank's segment, like high_spender or long_term_potential"),
        field("advisor", .register, .text(maxLength: 64), .profile, "the advisor who knows the customer (continuity)"),
        field("stage", .register, .choice(Stage.rawValues), .journey, "relationship stage"),
        field("stage_reason", .register, longText, .journey, "why the customer is in this stage"),
        field("heard_of_us_via", .register, shortText, .journey, "prospect: how they heard of the bank"),
        field("first_impression", .register, longText, .journey, "prospect: their first impression"),
        field("effort_to_reach_us", .register, longText, .journey, "prospect: the effort it took them to reach the bank"),
        field("alternatives_considered", .register, longText, .journey, "prospect: the alternatives they weigh"),
        field("alternatives_liked", .register, longText, .journey, "prospect: what they like about the alternatives"),
        field("first_transaction", .register, .firstTransaction, .journey, "onboarding: where, when, what and how much"),
        field("special_requests", .register, longText, .journey, "onboarding: special requests"),
        field("liked", .register, longText, .journey, "quiet: what they liked"),
        field("disliked", .register, longText, .journey, "quiet: what they disliked"),
        field("leave_reason", .register, longText, .journey, "churned: why they left"),
        field("left_because_of_us", .register, .bool, .journey, "churned: whether leaving was about the bank"),
        field("preferred_channels", .register, .channelList, .contactPreferences, "contact channels, most preferred first"),
        field("service_preference", .register, .choice(ServicePreference.rawValues), .contactPreferences, "a person or self-service"),
        field("quiet_hours", .register, .quietHours, .contactPreferences, "no proactive contact in these hours, in the customer's time zone"),
        field("contact_budget", .register, .contactBudget, .contactPreferences, "at most N proactive contacts per period"),
        field("do_not_contact", .register, .bool, .contactPreferences, "no proactive contact at all"),
        field("lifestyle", .register, longText, .psychographics, "lifestyle"),
        field("personality_notes", .register, longText, .psychographics, "personality notes"),
        field("interests", .addWinsSet, .setElement(maxLength: 100), .psychographics, "interests"),
        field("tags", .addWinsSet, .setElement(maxLength: 100), .psychographics, "free tags"),
        field("scopes", .addWinsSet, .scope, .access, "scopes the customer belongs to, like branch:HN01"),
    ]

    private static let byName: [String: FieldDescriptor] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// The field named `name`, or nil.
    public static func descriptor(named name: String) -> FieldDescriptor? { byName[name] }

    /// The field named `name`, or ``StoreError/unknownField(_:)``.
    public static func field(named name: String) throws(StoreError) -> FieldDescriptor {
        guard let descriptor = byName[name] else { throw .unknownField(name) }
        return descriptor
    }
}

/// A typed key for a single-valued profile field.
///
/// ```swift
/// try writer.set(.preferredName, to: "Jana", of: customer)
/// ```
public struct ProfileField<Value: FieldValue>: Sendable, Hashable {
    /// The field as declared in ``FieldCatalog``.
    public let descriptor: FieldDescriptor
    /// The field's wire name.
    public var name: String { descriptor.name }

    init(_ name: String) {
        guard let descriptor = FieldCatalog.descriptor(named: name), !descriptor.isSet else {
            preconditionFailure("field '\(name)' is not declared in FieldCatalog as a single value")
        }
        self.descriptor = descriptor
    }
}

/// A typed key for a set-valued profile field (add-wins).
///
/// ```swift
/// try writer.add("sailing", to: .interests, of: customer)
/// ```
public struct ProfileSet: Sendable, Hashable {
    /// The field as declared in ``FieldCatalog``.
    public let descriptor: FieldDescriptor
    /// The field's wire name.
    public var name: String { descriptor.name }

    init(_ name: String) {
        guard let descriptor = FieldCatalog.descriptor(named: name), descriptor.isSet else {
            preconditionFailure("field '\(name)' is not declared in FieldCatalog as a set")
        }
        self.descriptor = descriptor
    }

    public static let interests = ProfileSet("interests")
    public static let tags = ProfileSet("tags")
    public static let scopes = ProfileSet("scopes")
}

extension ProfileField where Value == String {
    public static let legalName = ProfileField("legal_name")
    public static let taxResidence = ProfileField("tax_residence")
    public static let preferredName = ProfileField("preferred_name")
    public static let language = ProfileField("language")
    public static let segment = ProfileField("segment")
    public static let advisor = ProfileField("advisor")
    public static let stageReason = ProfileField("stage_reason")
    public static let heardOfUsVia = ProfileField("heard_of_us_via")
    public static let firstImpression = ProfileField("first_impression")
    public static let effortToReachUs = ProfileField("effort_to_reach_us")
    public static let alternativesConsidered = ProfileField("alternatives_considered")
    public static let alternativesLiked = ProfileField("alternatives_liked")
    public static let specialRequests = ProfileField("special_requests")
    public static let liked = ProfileField("liked")
    public static let disliked = ProfileField("disliked")
    public static let leaveReason = ProfileField("leave_reason")
    public static let lifestyle = ProfileField("lifestyle")
    public static let personalityNotes = ProfileField("personality_notes")
}

extension ProfileField where Value == LocalDate {
    public static let birthDate = ProfileField("birth_date")
}

extension ProfileField where Value == Instant {
    public static let createdAt = ProfileField("created_at")
}

extension ProfileField where Value == Bool {
    public static let leftBecauseOfUs = ProfileField("left_because_of_us")
    public static let doNotContact = ProfileField("do_not_contact")
}

extension ProfileField where Value == Stage {
    public static let stage = ProfileField("stage")
}

extension ProfileField where Value == IncomeBand {
    public static let incomeBand = ProfileField("income_band")
}

extension ProfileField where Value == ServicePreference {
    public static let servicePreference = ProfileField("service_preference")
}

extension ProfileField where Value == [Channel] {
    public static let preferredChannels = ProfileField("preferred_channels")
}

extension ProfileField where Value == QuietHours {
    public static let quietHours = ProfileField("quiet_hours")
}

extension ProfileField where Value == ContactBudget {
    public static let contactBudget = ProfileField("contact_budget")
}

extension ProfileField where Value == FirstTransaction {
    public static let firstTransaction = ProfileField("first_transaction")
}
