/// Why a message was refused: a stable ``ErrorCode``, a human message, and
/// where in the body the problem is (a JSON Pointer such as `/changes/3/hlc`).
///
/// The codec throws it for every malformed or oversized message; a server
/// turns it into an ``ErrorEnvelope`` with ``envelope(requestID:)``.
///
/// ```swift
/// do { _ = try codec.decode(PushRequest.self, from: body) }
/// catch { print(error.code, error.pointer) }   // too_many_changes /changes
/// ```
public struct WireError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The machine-readable code.
    public let code: ErrorCode
    /// What is wrong, for a person.
    public let message: String
    /// Where: a JSON Pointer into the body; empty for the whole body.
    public let pointer: String

    /// Makes an error.
    public init(_ code: ErrorCode, _ message: String, at pointer: String = "") {
        self.code = code
        self.message = message
        self.pointer = pointer
    }

    public var description: String {
        pointer.isEmpty ? "\(code): \(message)" : "\(code) at \(pointer): \(message)"
    }

    /// The envelope a server answers with.
    public func envelope(requestID: String) -> ErrorEnvelope {
        ErrorEnvelope(
            code: code, message: String(message.unicodeScalars.prefix(Limits.messageCharacters)), requestID: requestID,
            pointer: pointer.isEmpty ? nil : String(pointer.unicodeScalars.prefix(Limits.messageCharacters)))
    }

    /// The wire error for a value error from the core types, found at `pointer`.
    public init(_ error: ProtocolError, at pointer: String) {
        let code: ErrorCode
        switch error {
        case .invalidIdentifier: code = .invalidIdentifier
        case .invalidTimestamp: code = .invalidTimestamp
        case .invalidDate: code = .invalidDate
        case .invalidDecimal, .invalidValue: code = .invalidValue
        case .malformedJSON: code = .malformedJSON
        case .fractionalNumber: code = .fractionalNumber
        case .integerOutOfRange: code = .numberOutOfRange
        case .nestingTooDeep: code = .nestingTooDeep
        }
        self.init(code, error.description, at: pointer)
    }
}
