/// How concurrent changes to one piece of data are resolved: the merge rules
/// of the design, one case per rule.
///
/// Every rule is commutative, associative and idempotent, so replicas that
/// receive the same changes in any order, any number of times, end equal.
public enum MergeKind: String, Codable, CaseIterable, Sendable {
    /// Last writer wins by hybrid timestamp; ties cannot happen (the replica id orders them).
    case register
    /// As `register`, but concurrent writes are kept as a conflict for a person to resolve.
    case guardedRegister = "guarded_register"
    /// A set where a concurrent add and remove of the same element: add wins.
    case addWinsSet = "add_wins_set"
    /// Records are only ever appended; the state is the union. Never conflicts.
    case appendOnlyLog = "append_only_log"
    /// The latest decision per purpose; a concurrent grant and withdrawal: withdrawal wins.
    case consent
    /// Absorbing: once a customer is erased, every later or concurrent change to it is dropped.
    case erasure
}

/// What a change is about: the kind of record or the part of a customer it touches.
public enum Entity: String, Codable, CaseIterable, Sendable {
    /// The customer itself: creation and erasure.
    case customer
    /// One profile field (`field` names it): registers and sets.
    case profile
    /// A new interaction note (`record` is the note id).
    case note
    /// A new text for an existing note (`record` is the revision id, `value.note` the note).
    case noteRevision = "note_revision"
    /// The redaction of a note: who and when are kept, the text is removed everywhere.
    case noteRedaction = "note_redaction"
    /// A consent decision for one purpose (`field` is the purpose, `record` the event id).
    case consent
    /// A life event (`record` is its id).
    case lifeEvent = "life_event"
    /// A proactive contact and its outcome (`record` is its id).
    case contact
}
