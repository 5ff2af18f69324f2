/// A configuration the server cannot start with (a TLS key that does not load,
/// a JWT setting that is missing), said for the operator who wrote it.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
