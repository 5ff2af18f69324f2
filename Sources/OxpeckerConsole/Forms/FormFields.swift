import Foundation

/// The fields of an `application/x-www-form-urlencoded` body or query, decoded as UTF-8.
///
/// ```swift
/// let form = FormFields(urlEncoded: "text=Ch%C3%A0o+b%E1%BA%A1n&channel=branch")
/// form?["text"]   // "Chào bạn"
/// ```
public struct FormFields: Sendable, Hashable {
    private var values: [String: [String]] = [:]

    public init() {}

    /// Decodes `text`; nil if a name or value is not valid percent-encoded UTF-8.
    public init?(urlEncoded text: String) {
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]), let value = Self.decode(parts.count > 1 ? parts[1] : "") else { return nil }
            values[name, default: []].append(value)
        }
    }

    private static func decode(_ part: Substring) -> String? {
        part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    /// The first value of the field `name`, if the form has it.
    public subscript(_ name: String) -> String? {
        values[name]?.first
    }

    /// The field's value with surrounding white space removed; nil when it is absent or empty.
    public func trimmed(_ name: String) -> String? {
        guard let value = self[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }
}
