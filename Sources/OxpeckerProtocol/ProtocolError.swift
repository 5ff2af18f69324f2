/// What can be wrong with a value of the wire format.
///
/// Each case names the offending value so that the message alone explains it.
public enum ProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An identifier breaks ``IdentifierRule``.
    case invalidIdentifier(kind: String, value: String)
    /// A hybrid timestamp does not have the form `WWWWWWWWWWWWWWW-CCCCCC-REPLICA`.
    case invalidTimestamp(String)
    /// A date, time or instant does not have its documented form.
    case invalidDate(kind: String, value: String)
    /// A decimal number is not a plain decimal string (`-12.50`).
    case invalidDecimal(String)
    /// A JSON document could not be parsed.
    case malformedJSON(String)
    /// A JSON number with a fraction or exponent, which the protocol never carries
    /// (decimals travel as strings so that no value changes on a round trip).
    case fractionalNumber(String)
    /// A value is outside what the protocol accepts.
    case invalidValue(field: String, reason: String)
    /// A JSON integer outside the signed 64-bit range.
    case integerOutOfRange(String)
    /// JSON arrays and objects nested deeper than the limit.
    case nestingTooDeep(maximum: Int)

    public var description: String {
        switch self {
        case .invalidIdentifier(let kind, let value):
            "invalid \(kind) '\(value)': use 1 to 64 of A-Z a-z 0-9 . _ : -"
        case .invalidTimestamp(let text):
            "invalid hybrid timestamp '\(text)': expected WALLMILLIS(15 digits)-COUNTER(6 digits)-REPLICA"
        case .invalidDate(let kind, let value):
            "invalid \(kind) '\(value)'"
        case .invalidDecimal(let text):
            "invalid decimal '\(text)': expected digits with an optional sign and fraction, like -12.50"
        case .malformedJSON(let reason):
            "malformed JSON: \(reason)"
        case .fractionalNumber(let text):
            "number \(text) has a fraction or exponent; decimals travel as strings"
        case .invalidValue(let field, let reason):
            "invalid \(field): \(reason)"
        case .integerOutOfRange(let text):
            "integer \(text) is outside the signed 64-bit range"
        case .nestingTooDeep(let maximum):
            "arrays and objects nested deeper than \(maximum) levels"
        }
    }
}
