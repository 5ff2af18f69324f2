import OxpeckerProtocol
import OxpeckerStore

/// One customer of an import file (one line of NDJSON), checked against the
/// field catalog before anything is written:
///
/// ```json
/// {"id":"c-1001","fields":{"legal_name":"Jana Nováková","stage":"active"},
///  "sets":{"interests":["sailing"]},"notes":[{"text":"…","author":"a-417","channel":"branch"}]}
/// ```
///
/// Field values are in their JSON form (as `oxpecker export` writes them); a
/// channel list, quiet hours, contact budget or boolean may also be written
/// as on the command line (`"3/month"`).
struct ImportRecord {
    let customer: CustomerID
    let fields: [(FieldDescriptor, JSONValue)]
    let elements: [(FieldDescriptor, String)]
    let notes: [NewNote]

    private static let recordKeys: Set<String> = ["id", "fields", "sets", "notes"]
    private static let noteKeys: Set<String> = ["text", "author", "channel", "sentiment", "at", "follow_up"]

    /// Reads and checks one line; every problem is an ``InputError`` naming what is wrong.
    init(json: JSONValue) throws {
        guard let members = json.objectValue else { throw InputError.invalid("expected a JSON object") }
        if let unknown = members.keys.sorted().first(where: { !Self.recordKeys.contains($0) }) {
            throw InputError.invalid("unknown key '\(unknown)' (expected: id, fields, sets, notes)")
        }
        guard let id = members["id"]?.stringValue else { throw InputError.invalid("missing \"id\" (a string)") }
        customer = try CustomerID(validating: id)

        var fields: [(FieldDescriptor, JSONValue)] = []
        for (name, value) in try Self.object(members["fields"], "fields").sorted(by: { $0.key < $1.key }) {
            let field = try InputParsing.singleField(name)
            fields.append((field, try Self.fieldValue(value, of: field)))
        }
        self.fields = fields

        var elements: [(FieldDescriptor, String)] = []
        for (name, value) in try Self.object(members["sets"], "sets").sorted(by: { $0.key < $1.key }) {
            let field = try InputParsing.setField(name)
            guard let array = value.arrayValue else { throw InputError.invalid("sets.\(name): expected an array of strings") }
            for element in array {
                guard let text = element.stringValue else { throw InputError.invalid("sets.\(name): expected an array of strings") }
                try field.type.validate(element, field: name)
                elements.append((field, text))
            }
        }
        self.elements = elements

        let noteValues = members["notes"].map { $0.isNull ? [] : $0.arrayValue } ?? []
        guard let noteValues else { throw InputError.invalid("notes: expected an array of objects") }
        notes = try noteValues.enumerated().map { index, value in try Self.note(value, at: index) }
    }

    private static func object(_ value: JSONValue?, _ key: String) throws -> [String: JSONValue] {
        guard let value, !value.isNull else { return [:] }
        guard let members = value.objectValue else { throw InputError.invalid("\(key): expected an object") }
        return members
    }

    private static func fieldValue(_ value: JSONValue, of field: FieldDescriptor) throws -> JSONValue {
        do {
            try field.type.validate(value, field: field.name)
            return value
        } catch {
            switch (field.type, value) {
            case (.channelList, .string(let text)), (.quietHours, .string(let text)), (.contactBudget, .string(let text)),
                (.bool, .string(let text)):
                return try field.type.parse(input: text, field: field.name)
            default:
                throw error
            }
        }
    }

    private static func note(_ value: JSONValue, at index: Int) throws -> NewNote {
        let path = "notes[\(index)]"
        guard let members = value.objectValue else { throw InputError.invalid("\(path): expected an object") }
        if let unknown = members.keys.sorted().first(where: { !noteKeys.contains($0) }) {
            throw InputError.invalid("\(path): unknown key '\(unknown)' (expected: \(noteKeys.sorted().joined(separator: ", ")))")
        }
        func text(_ key: String) throws -> String? {
            guard let member = members[key], !member.isNull else { return nil }
            guard let text = member.stringValue else { throw InputError.invalid("\(path).\(key): expected a string") }
            return text
        }
        guard let body = try text("text"), let author = try text("author"), let channel = try text("channel") else {
            throw InputError.invalid("\(path): text, author and channel are required")
        }
        return NewNote(
            text: body, author: author, channel: try InputParsing.choice(channel, option: "\(path).channel"),
            at: try text("at").map { try InputParsing.instant($0, option: "\(path).at") },
            sentiment: try text("sentiment").map { try InputParsing.choice($0, option: "\(path).sentiment") },
            followUp: try text("follow_up").map { try InputParsing.date($0, option: "\(path).follow_up") })
    }

    /// Writes the customer with all its fields, set elements and notes; returns the number of changes.
    func write(with writer: StoreWriter) throws -> Int64 {
        // Scopes first: a sync server accepts a new customer only inside the device's scopes.
        let scopes = elements.filter { $0.0.name == ProfileSet.scopes.name }.map(\.1)
        try writer.createCustomer(customer, in: scopes)
        for (field, value) in fields { try writer.set(field, to: value, of: customer) }
        for (field, element) in elements where field.name != ProfileSet.scopes.name { try writer.add(element, toSetNamed: field, of: customer) }
        for note in notes { try writer.addNote(note, to: customer) }
        return writer.changeCount
    }
}
