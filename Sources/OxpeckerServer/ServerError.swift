import OxpeckerProtocol

/// A request the server refuses, with the protocol's machine code and a message for people.
public struct ServerError: Error, Sendable, CustomStringConvertible {
    public let code: ErrorCode
    public let message: String
    public let pointer: String?
    /// Sent with the two version errors.
    public let supportedVersions: VersionRange?

    public init(_ code: ErrorCode, _ message: String, pointer: String? = nil, supportedVersions: VersionRange? = nil) {
        self.code = code
        self.message = message
        self.pointer = pointer
        self.supportedVersions = supportedVersions
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
