import OxpeckerProtocol

/// A remote change whose content has been checked, without reading any state:
/// what it writes, with its members parsed. `StoreWriter.apply` merges it; the
/// sync server's PostgreSQL backend, which keeps no materialized state, checks
/// pushes with the same function, so both refuse exactly the same changes with
/// the same reasons.
public enum ValidatedChange: Sendable, Hashable {
    case erasure
    case register(field: String)
    case guardedRegister(field: String)
    case setAdd(field: String, element: String)
    case setRemove(field: String, element: String)
    case note(id: String, text: String?, author: String, at: String, channel: String, sentiment: String?, followUp: String?)
    case noteRevision(id: String, note: String, text: String?, author: String, at: String)
    case noteRedaction(note: String, by: String, at: String, reason: String?)
    case consent(id: String, purpose: String, status: String, source: String, at: String)
    case lifeEvent(id: String, type: String, date: String, source: String, confidence: Int64, detail: String?)
    case contact(id: String, channel: String, purpose: String, topic: String, at: String, outcome: String)

    /// The change checked, or the reason it is invalid (a pure function of the change).
    public static func check(_ change: Change) -> Result<ValidatedChange, Rejection> {
        do {
            return .success(try ValidatedChange(change))
        } catch let rejection as Rejection {
            return .failure(rejection)
        } catch let error as StoreError {
            return .failure(Rejection(reason: error.description))
        } catch let error as ProtocolError {
            return .failure(Rejection(reason: error.description))
        } catch {
            return .failure(Rejection(reason: "\(error)"))
        }
    }

    /// Why a change is invalid, for people.
    public struct Rejection: Error, Sendable, Hashable {
        public let reason: String
    }

    private init(_ change: Change) throws {
        guard change.hlc.replica == change.replica else { throw Rejection(reason: "the hlc's replica is not the change's") }
        let record = RemoteRecord(change)
        switch change.entity {
        case .customer:
            guard change.kind == .erasure else { throw Rejection(reason: "erasure is a change of the customer entity") }
            self = .erasure
        case _ where change.kind == .erasure:
            throw Rejection(reason: "erasure is a change of the customer entity")
        case .profile:
            self = try Self.profile(change)
        case .note:
            let id = try record.id()
            let text = try record.optionalText("text", max: Limits.noteTextCharacters)
            try record.expectKind(.appendOnlyLog)
            self = .note(
                id: id, text: text, author: try record.text("author"), at: try record.instant("at"), channel: try record.text("channel"),
                sentiment: try record.optionalText("sentiment"), followUp: try record.optionalDate("follow_up"))
        case .noteRevision:
            try record.expectKind(.appendOnlyLog)
            self = .noteRevision(
                id: try record.id(), note: try record.identifier("note"),
                text: try record.optionalText("text", max: Limits.noteTextCharacters), author: try record.text("author"),
                at: try record.instant("at"))
        case .noteRedaction:
            try record.expectKind(.appendOnlyLog)
            self = .noteRedaction(note: try record.id(), by: try record.text("by"), at: try record.instant("at"), reason: try record.optionalText("reason"))
        case .consent:
            try record.expectKind(.consent)
            guard let purpose = change.field, !purpose.isEmpty else { throw Rejection(reason: "a consent change names its purpose in field") }
            self = .consent(
                id: try record.id(), purpose: purpose, status: try record.text("status"), source: try record.text("source"),
                at: try record.instant("at"))
        case .lifeEvent:
            try record.expectKind(.appendOnlyLog)
            let confidence = try record.integer("confidence", in: 0...100)
            self = .lifeEvent(
                id: try record.id(), type: try record.text("type"), date: try record.date("date"), source: try record.text("source"),
                confidence: confidence, detail: try record.optionalText("detail", max: Limits.noteTextCharacters))
        case .contact:
            try record.expectKind(.appendOnlyLog)
            self = .contact(
                id: try record.id(), channel: try record.text("channel"), purpose: try record.text("purpose"), topic: try record.text("topic"),
                at: try record.instant("at"), outcome: try record.text("outcome"))
        }
    }

    private static func profile(_ change: Change) throws -> ValidatedChange {
        guard let name = change.field, let field = FieldCatalog.descriptor(named: name) else {
            throw Rejection(reason: "unknown profile field '\(change.field ?? "")'")
        }
        guard change.kind == field.kind else {
            throw Rejection(reason: "field '\(name)' merges as \(field.kind.rawValue), not \(change.kind.rawValue)")
        }
        switch field.kind {
        case .register:
            try field.type.validate(change.value, field: name)
            return .register(field: name)
        case .guardedRegister:
            try field.type.validate(change.value, field: name)
            return .guardedRegister(field: name)
        case .addWinsSet:
            guard let element = change.value["element"]?.stringValue, let op = change.value["op"]?.stringValue else {
                throw Rejection(reason: "a set change carries {\"element\": …, \"op\": \"add\" | \"remove\"}")
            }
            try field.type.validate(.string(element), field: name)
            switch op {
            case "add": return .setAdd(field: name, element: element)
            case "remove": return .setRemove(field: name, element: element)
            default: throw Rejection(reason: "unknown set operation '\(op)'")
            }
        default:
            throw Rejection(reason: "field '\(name)' has merge kind \(field.kind.rawValue)")
        }
    }
}

/// Reads and validates the members of a remote record change's value.
struct RemoteRecord {
    let change: Change

    init(_ change: Change) { self.change = change }

    func fail(_ reason: String) -> StoreError {
        .invalidValue(field: "\(change.entity.rawValue) change \(change.replica)#\(change.number)", reason: reason)
    }

    func expectKind(_ kind: MergeKind) throws {
        guard change.kind == kind else { throw fail("merges as \(kind.rawValue), not \(change.kind.rawValue)") }
    }

    func id() throws -> String {
        guard let record = change.record else { throw fail("missing record id") }
        return record.rawValue
    }

    func optionalText(_ key: String, max: Int = Limits.shortTextCharacters) throws -> String? {
        guard let value = change.value[key], !value.isNull else { return nil }
        guard let text = value.stringValue, text.unicodeScalars.count <= max else { throw fail("\(key) must be text of at most \(max) characters") }
        return text
    }

    func text(_ key: String) throws -> String {
        guard let text = try optionalText(key), !text.isEmpty else { throw fail("missing \(key)") }
        return text
    }

    func identifier(_ key: String) throws -> String {
        let text = try text(key)
        guard IdentifierRule.accepts(text) else { throw fail("\(key) is not a valid id") }
        return text
    }

    func instant(_ key: String) throws -> String {
        try Instant(parsing: text(key)).description
    }

    func date(_ key: String) throws -> String {
        try LocalDate(parsing: text(key)).description
    }

    func optionalDate(_ key: String) throws -> String? {
        try optionalText(key).map { try LocalDate(parsing: $0).description }
    }

    func integer(_ key: String, in range: ClosedRange<Int64>) throws -> Int64 {
        guard let number = change.value[key]?.integerValue, range.contains(number) else {
            throw fail("\(key) must be an integer in \(range)")
        }
        return number
    }
}
