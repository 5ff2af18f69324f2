import JWTKit

/// Every claim of a JWT whose value is a string, a list of strings, a number or a
/// boolean, by name: the scopes claim's name is configured, so the payload
/// cannot be a fixed struct. The claims are checked by ``JWTVerifier`` with
/// the server's clock, after jwt-kit has verified the signature.
struct JWTClaims: JWTPayload, Equatable {
    enum Value: Codable, Sendable, Equatable {
        case string(String)
        case strings([String])
        case number(Double)
        case bool(Bool)

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(String.self) {
                self = .string(value)
            } else if let value = try? container.decode([String].self) {
                self = .strings(value)
            } else if let value = try? container.decode(Bool.self) {
                self = .bool(value)
            } else {
                self = .number(try container.decode(Double.self))
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .string(let value): try container.encode(value)
            case .strings(let value): try container.encode(value)
            case .number(let value): try container.encode(value)
            case .bool(let value): try container.encode(value)
            }
        }
    }

    struct Name: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    var values: [String: Value]

    init(_ values: [String: Value]) {
        self.values = values
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Name.self)
        var values: [String: Value] = [:]
        for key in container.allKeys {
            // Claims of other shapes (objects, nested arrays) are not ours to read.
            if let value = try? container.decode(Value.self, forKey: key) { values[key.stringValue] = value }
        }
        self.values = values
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Name.self)
        for (name, value) in values { try container.encode(value, forKey: Name(stringValue: name)) }
    }

    /// Nothing here: ``JWTVerifier`` checks the claims with the server's clock and names what failed.
    func verify(using algorithm: some JWTAlgorithm) async throws {}

    subscript(_ name: String) -> Value? { values[name] }

    func string(_ name: String) -> String? {
        if case .string(let value) = values[name] { return value }
        return nil
    }

    /// A list claim, given as an array or as one space-separated string (OAuth's `scope`).
    func strings(_ name: String) -> [String]? {
        switch values[name] {
        case .strings(let value): value
        case .string(let value): value.split(separator: " ").map(String.init)
        default: nil
        }
    }

    /// `aud`: one string, or an array of them (RFC 7519).
    var audiences: [String] {
        switch values["aud"] {
        case .string(let value): [value]
        case .strings(let value): value
        default: []
        }
    }

    /// A NumericDate claim (seconds since 1970), in milliseconds.
    func instantMillis(_ name: String) -> Int64? {
        guard case .number(let seconds) = values[name], seconds.isFinite, abs(seconds) < 1e12 else { return nil }
        return Int64((seconds * 1000).rounded(.down))
    }
}
