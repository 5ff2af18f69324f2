/// A value that travels as one JSON string in exactly one form: parsed with
/// ``init(parsing:)``, written as its `description`. Its `Codable` conformance
/// comes from here, so every such value decodes and encodes the same way.
public protocol TextCodable: Codable, CustomStringConvertible {
    /// Parses the value's one documented text form.
    init(parsing text: String) throws(ProtocolError)
}

extension TextCodable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(parsing: text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
