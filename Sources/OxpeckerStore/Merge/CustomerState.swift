import OxpeckerProtocol

/// A customer's merged state, or the part of it a batch of changes touches.
///
/// This value and ``merge(_:as:)`` are the merge rules of DESIGN.md, the only
/// copy of them: devices and the SQLite server load the slice of state a page
/// of changes touches (``StateKeys``), merge the page in memory, and store what
/// the merge says changed (``StateDelta``); SQL never decides a merge. The
/// PostgreSQL server judges its pushes by the same rules (``RegisterRule``, ``AddWinsSet``).
///
/// A slice is enough to merge a change when it holds every entry the change's
/// rule reads: the customer's presence and tombstone, the register of its field,
/// every write of its guarded field, the tags of its set element, the record of
/// its id and, for a note's text, the note's redaction. Entries a slice leaves out
/// are neither read nor written.
///
/// The state reached is a function of the set of changes merged, whatever their
/// order, grouping or repetition (commutative, associative, idempotent; the
/// property tests in `CustomerStateTests` check it).
public struct CustomerState: Sendable, Hashable {
    public let customer: CustomerID
    /// Whether this replica holds the customer: a change of it was merged, and it is not erased.
    public var isPresent = false
    /// The erasure's stamp once the customer is erased: it absorbs every change, before or after.
    public var erasure: HybridTimestamp?
    /// The value each profile field shows, by field name: the latest write of a
    /// register, the latest head of a guarded register.
    public var registers: [String: StampedValue] = [:]
    /// Every write of each guarded field, by stamp, with the writes it observed (its heads are the field's ``CausalRegister``).
    public var guarded: [String: [HybridTimestamp: CausalWrite]] = [:]
    /// Each set field's tagged adds and their removals.
    public var sets: [String: AddWinsSet] = [:]
    public var notes: [String: NoteEntry] = [:]
    /// Note texts, by revision id; a note's first text is the revision with the note's id.
    public var revisions: [String: RevisionEntry] = [:]
    /// By the redacted note's id.
    public var redactions: [String: RedactionEntry] = [:]
    public var consents: [String: ConsentEntry] = [:]
    public var lifeEvents: [String: LifeEventEntry] = [:]
    public var contacts: [String: ContactEntry] = [:]

    public init(customer: CustomerID) {
        self.customer = customer
    }

    /// A note as the state keeps it (its text is in ``revisions``).
    public struct NoteEntry: Sendable, Hashable {
        public var author: String
        public var channel: String
        public var at: String
        public var sentiment: String?
        public var followUp: String?
        public var hlc: HybridTimestamp

        public init(author: String, channel: String, at: String, sentiment: String?, followUp: String?, hlc: HybridTimestamp) {
            self.author = author
            self.channel = channel
            self.at = at
            self.sentiment = sentiment
            self.followUp = followUp
            self.hlc = hlc
        }
    }

    /// One text of a note; nil once the note is redacted.
    public struct RevisionEntry: Sendable, Hashable {
        public var note: String
        public var text: String?
        public var author: String
        public var at: String
        public var hlc: HybridTimestamp

        public init(note: String, text: String?, author: String, at: String, hlc: HybridTimestamp) {
            self.note = note
            self.text = text
            self.author = author
            self.at = at
            self.hlc = hlc
        }
    }

    public struct RedactionEntry: Sendable, Hashable {
        public var by: String
        public var at: String
        public var reason: String?
        public var hlc: HybridTimestamp

        public init(by: String, at: String, reason: String?, hlc: HybridTimestamp) {
            self.by = by
            self.at = at
            self.reason = reason
            self.hlc = hlc
        }
    }

    public struct ConsentEntry: Sendable, Hashable {
        public var purpose: String
        public var status: String
        public var source: String
        public var at: String
        public var observed: [HybridTimestamp]
        public var hlc: HybridTimestamp

        public init(purpose: String, status: String, source: String, at: String, observed: [HybridTimestamp], hlc: HybridTimestamp) {
            self.purpose = purpose
            self.status = status
            self.source = source
            self.at = at
            self.observed = observed
            self.hlc = hlc
        }
    }

    public struct LifeEventEntry: Sendable, Hashable {
        public var type: String
        public var date: String
        public var source: String
        public var confidence: Int64
        public var detail: String?
        public var hlc: HybridTimestamp

        public init(type: String, date: String, source: String, confidence: Int64, detail: String?, hlc: HybridTimestamp) {
            self.type = type
            self.date = date
            self.source = source
            self.confidence = confidence
            self.detail = detail
            self.hlc = hlc
        }
    }

    public struct ContactEntry: Sendable, Hashable {
        public var channel: String
        public var purpose: String
        public var topic: String
        public var at: String
        public var outcome: String
        public var hlc: HybridTimestamp

        public init(channel: String, purpose: String, topic: String, at: String, outcome: String, hlc: HybridTimestamp) {
            self.channel = channel
            self.purpose = purpose
            self.topic = topic
            self.at = at
            self.outcome = outcome
            self.hlc = hlc
        }
    }
}
