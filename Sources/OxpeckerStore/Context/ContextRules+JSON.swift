import Foundation
import OxpeckerProtocol

extension ContextRules {
    /// The rules as a JSON document, in the form ``overriding(with:)`` reads
    /// (snake_case keys; an unset value is `null`).
    public var json: JSONValue {
        // Encoding plain strings, numbers and dictionaries cannot fail.
        guard let data = try? JSONEncoder().encode(self), let value = try? JSONValue(parsing: data) else { return .null }
        return value
    }

    /// Rules read from a JSON file that overrides `self`; ``StoreError/invalidValue(field:reason:)``
    /// names the file and what is wrong with it.
    public func overriding(withFileAt path: String) throws -> ContextRules {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StoreError.invalidValue(field: "rules", reason: "cannot read the rules file '\(path)'")
        }
        let document: JSONValue
        do { document = try JSONValue(parsing: data) } catch {
            throw StoreError.invalidValue(field: "rules", reason: "'\(path)' is not JSON: \(error)")
        }
        return try overriding(with: document)
    }

    /// These rules with the parts named in `document` replaced: a JSON object
    /// with any of the keys of ``json``. The maps (`purposes`, `life_events`,
    /// `unrecorded_consent`) are merged entry by entry (an entry set to `null` is
    /// removed, and a new entry must be complete); lists and other values replace
    /// the default. An unknown key, a wrong type or a value out of range is refused
    /// with ``StoreError/invalidValue(field:reason:)``.
    ///
    /// ```json
    /// {"dismissal_quiet_days": 60, "life_events": {"renovation": {"care_days": 14}}}
    /// ```
    public func overriding(with document: JSONValue) throws(StoreError) -> ContextRules {
        guard let overrides = document.objectValue else {
            throw .invalidValue(field: "rules", reason: "expected a JSON object of rules to change")
        }
        guard var merged = json.objectValue else { throw .invalidValue(field: "rules", reason: "the rules cannot be encoded") }
        for (key, value) in overrides {
            guard let current = merged[key] else {
                throw .invalidValue(field: "rules", reason: "unknown rule '\(key)' (known: \(merged.keys.sorted().joined(separator: ", ")))")
            }
            merged[key] = Self.mapKeys.contains(key) ? try Self.mergeMap(current, value, key: key) : value
        }
        let rules: ContextRules
        do {
            rules = try JSONDecoder().decode(ContextRules.self, from: Data(JSONValue.object(merged).canonicalText.utf8))
        } catch let error as DecodingError {
            throw .invalidValue(field: "rules", reason: Self.describe(error))
        } catch {
            throw .invalidValue(field: "rules", reason: "\(error)")
        }
        try rules.validate()
        return rules
    }

    /// The rules whose values are maps merged entry by entry.
    private static let mapKeys: Set<String> = ["purposes", "life_events", "unrecorded_consent"]

    private static func mergeMap(_ current: JSONValue, _ override: JSONValue, key: String) throws(StoreError) -> JSONValue {
        guard var entries = current.objectValue, let changes = override.objectValue else {
            throw .invalidValue(field: "rules: \(key)", reason: "expected an object")
        }
        for (name, change) in changes {
            if change.isNull {
                entries[name] = nil
            } else if let old = entries[name]?.objectValue, let new = change.objectValue {
                for field in new.keys where old[field] == nil {
                    throw .invalidValue(
                        field: "rules: \(key).\(name)", reason: "unknown key '\(field)' (known: \(old.keys.sorted().joined(separator: ", ")))")
                }
                entries[name] = .object(old.merging(new) { _, new in new })
            } else {
                entries[name] = change
            }
        }
        return .object(entries)
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let at = path(context)
            return "missing '\(key.stringValue)'" + (at.isEmpty ? "" : " in \(at)")
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(path(context)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
