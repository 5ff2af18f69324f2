import OxpeckerProtocol

/// How one member of a record's value is written on the wire.
public enum MemberForm: Sendable, Hashable {
    /// A string of at most `maxLength` code points; not empty when the member is required.
    case text(maxLength: Int)
    /// A string that obeys the identifier rule (1 to 64 of `A-Z a-z 0-9 . _ : -`).
    case identifier
    /// An instant, written RFC 3339 in UTC with three fraction digits; read also with an offset and 0 to 3 digits (``Instant/init(parsing:)``).
    case instant
    /// A date, `YYYY-MM-DD`, a day that exists.
    case date
    /// A JSON integer in `range`.
    case integer(ClosedRange<Int64>)

    /// The form in a few words, for the data-model document.
    public var wireForm: String {
        switch self {
        case .text(let maxLength): "string, at most \(maxLength) code points"
        case .identifier: "identifier (1 to \(IdentifierRule.maximumLength) of `A-Z a-z 0-9 . _ : -`)"
        case .instant: "instant, written `\"2026-11-24T15:31:50.123Z\"` (read also with an offset and 0 to 3 fraction digits)"
        case .date: "date, `\"YYYY-MM-DD\"`"
        case .integer(let range): "integer, \(range.lowerBound) to \(range.upperBound)"
        }
    }
}

/// One member of a record's `value` object.
public struct RecordMember: Sendable, Hashable {
    /// The member's name in the value object.
    public let name: String
    /// How it is written.
    public let form: MemberForm
    /// Whether a change without it is invalid (`invalid_change`). An optional member is omitted or `null`.
    public let isRequired: Bool
    /// What it holds.
    public let summary: String
}

/// An appended record (a change whose entity is not `profile` or `customer`) as declared:
/// its entity, merge kind, what `field` and `record` hold, and the members of its value.
public struct RecordDescriptor: Sendable, Hashable {
    /// The change's `entity`.
    public let entity: Entity
    /// The change's `kind`: every change of this entity has it.
    public let kind: MergeKind
    /// What the change's `field` holds; nil when it is omitted.
    public let field: String?
    /// What the change's `record` (required) holds.
    public let record: String
    /// The members of `value`, an object.
    public let members: [RecordMember]
    /// One line on what the record is.
    public let summary: String
}

/// Every record entity and the members of its value, declared once.
///
/// ``ValidatedChange`` checks remote changes by these rules (the device's store
/// and the server alike), `Protocol/data-model.md` is rendered from this table
/// (``DataModelDocument``), and a test checks that the two agree: a value made
/// from the table is accepted, and one without a required member, or with a text
/// one code point too long, is refused.
///
/// Members the table does not name are accepted and carried verbatim in the
/// change (the server's log keeps the change as it came), but the store reads
/// only these.
public enum RecordCatalog {
    private static func member(_ name: String, _ form: MemberForm, required: Bool = true, _ summary: String) -> RecordMember {
        RecordMember(name: name, form: form, isRequired: required, summary: summary)
    }

    private static let short = MemberForm.text(maxLength: Limits.shortTextCharacters)
    private static let long = MemberForm.text(maxLength: Limits.noteTextCharacters)

    /// All record entities, in the order people read them.
    public static let all: [RecordDescriptor] = [
        RecordDescriptor(
            entity: .note, kind: .appendOnlyLog, field: nil, record: "the note's id",
            members: [
                member("text", long, required: false, "the note's text (its first revision); omitted for a note without text"),
                member("author", short, "who wrote it (an advisor id, a person's name)"),
                member("at", .instant, "when it was written"),
                member("channel", short, "where the conversation happened, like branch or phone"),
                member("sentiment", short, required: false, "the store writes one of: " + Sentiment.rawValues.joined(separator: ", ")),
                member("follow_up", .date, required: false, "when to follow up"),
            ],
            summary: "an interaction note; append-only"),
        RecordDescriptor(
            entity: .noteRevision, kind: .appendOnlyLog, field: nil, record: "the revision's id",
            members: [
                member("note", .identifier, "the id of the note it revises"),
                member("text", long, required: false, "the new text"),
                member("author", short, "who edited it"),
                member("at", .instant, "when"),
            ],
            summary: "an edit of a note: a new revision of its text; the newest by HLC is the text shown"),
        RecordDescriptor(
            entity: .noteRedaction, kind: .appendOnlyLog, field: nil, record: "the id of the note it redacts",
            members: [
                member("by", short, "who redacted it"),
                member("at", .instant, "when"),
                member("reason", short, required: false, "why"),
            ],
            summary: "a removal of a note: keeps who and when, removes the text of every revision"),
        RecordDescriptor(
            entity: .consent, kind: .consent, field: "the consent purpose, like marketing (required)", record: "the decision's id",
            members: [
                member("status", short, "granted or withdrawn (any other value is read as withdrawn)"),
                member("source", short, "where the decision was given, like branch form"),
                member("at", .instant, "when"),
            ],
            summary: "a consent decision for one purpose; `observed` names the decisions it replaces"),
        RecordDescriptor(
            entity: .lifeEvent, kind: .appendOnlyLog, field: nil, record: "the event's id",
            members: [
                member("type", short, "what happened; the store writes one of: " + LifeEventType.rawValues.joined(separator: ", ")),
                member("date", .date, "when"),
                member("source", short, "who told, like customer or advisor"),
                member("confidence", .integer(0...100), "how sure, in percent"),
                member("detail", long, required: false, "more, in words"),
            ],
            summary: "a life event, like a new child, a home purchase or retirement coming near"),
        RecordDescriptor(
            entity: .contact, kind: .appendOnlyLog, field: nil, record: "the contact's id",
            members: [
                member("channel", short, "the channel used, like sms"),
                member("purpose", short, "the consent purpose it served, like marketing"),
                member("topic", short, "what it was about"),
                member("at", .instant, "when"),
                member("outcome", short, "the store writes one of: " + ContactOutcome.rawValues.joined(separator: ", ")),
            ],
            summary: "a proactive contact or nudge and its outcome (the contact log)"),
    ]

    /// The record entity `entity`, or nil for `profile`, `customer` and entities this build does not know.
    public static func descriptor(of entity: Entity) -> RecordDescriptor? {
        all.first { $0.entity == entity }
    }
}
