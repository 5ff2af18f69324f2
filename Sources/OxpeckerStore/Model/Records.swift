import OxpeckerProtocol

/// An interaction note as read: the current text (the latest revision), or none once redacted.
public struct Note: Sendable, Hashable {
    public let id: RecordID
    public let customer: CustomerID
    public let author: String
    public let channel: Channel?
    public let at: Instant
    /// The latest revision's text; nil once the note is redacted.
    public let text: String?
    public let sentiment: Sentiment?
    public let followUp: LocalDate?
    /// How many texts the note has had (1 for a note never edited).
    public let revisionCount: Int
    /// Who removed the text and when, if it was.
    public let redaction: Redaction?
    /// The replica the note was written on.
    public let device: ReplicaID
}

/// Who redacted a note, when, and why.
public struct Redaction: Sendable, Hashable {
    public let by: String
    public let at: Instant
    public let reason: String?
}

/// What a person writes to start a note.
public struct NewNote: Sendable, Hashable {
    public var text: String
    public var author: String
    public var channel: Channel
    public var at: Instant?
    public var sentiment: Sentiment?
    public var followUp: LocalDate?

    /// A note; `at` defaults to now when written.
    public init(
        text: String, author: String, channel: Channel, at: Instant? = nil, sentiment: Sentiment? = nil,
        followUp: LocalDate? = nil
    ) {
        self.text = text
        self.author = author
        self.channel = channel
        self.at = at
        self.sentiment = sentiment
        self.followUp = followUp
    }
}

/// One consent decision, as recorded.
public struct ConsentEvent: Sendable, Hashable {
    public let id: RecordID
    public let purpose: ConsentPurpose?
    public let purposeName: String
    public let status: ConsentStatus?
    public let source: String
    public let at: Instant
    public let hlc: HybridTimestamp
}

/// The consent in force for one purpose, derived from its events: the latest
/// decision; of concurrent decisions, a withdrawal wins over a grant.
public struct ConsentState: Sendable, Hashable {
    public let purpose: String
    public let status: ConsentStatus
    /// The decision that set the status.
    public let decidedBy: ConsentEvent
}

/// A life event: what happened, when, how we know, how sure we are.
public struct LifeEvent: Sendable, Hashable {
    public let id: RecordID
    public let type: LifeEventType?
    public let typeName: String
    public let date: LocalDate
    public let source: String
    /// How sure the source is, 0 to 100.
    public let confidence: Int
    public let detail: String?
}

/// What a person records about a life event.
public struct NewLifeEvent: Sendable, Hashable {
    public var type: LifeEventType
    public var date: LocalDate
    public var source: String
    public var confidence: Int
    public var detail: String?

    public init(type: LifeEventType, date: LocalDate, source: String, confidence: Int = 100, detail: String? = nil) {
        self.type = type
        self.date = date
        self.source = source
        self.confidence = confidence
        self.detail = detail
    }
}

/// A proactive contact or nudge and how it ended.
public struct ContactRecord: Sendable, Hashable {
    public let id: RecordID
    public let channel: Channel?
    public let channelName: String
    public let purpose: String
    public let topic: String
    public let at: Instant
    public let outcome: ContactOutcome?
    public let outcomeName: String
}

/// What a person or an app records about a contact.
public struct NewContact: Sendable, Hashable {
    public var channel: Channel
    public var purpose: String
    public var topic: String
    public var outcome: ContactOutcome
    public var at: Instant?

    public init(channel: Channel, purpose: String, topic: String, outcome: ContactOutcome, at: Instant? = nil) {
        self.channel = channel
        self.purpose = purpose
        self.topic = topic
        self.outcome = outcome
        self.at = at
    }
}
