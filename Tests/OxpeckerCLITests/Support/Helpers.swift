import Foundation
import OxpeckerProtocol
import Testing

extension OxpeckerBinary {
    /// Runs a command that must succeed, and returns its result.
    @discardableResult
    func ok(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws -> RunResult {
        let result = try await run(arguments)
        #expect(result.succeeded, "oxpecker \(arguments) failed (\(result.status)): \(result.stderr)", sourceLocation: sourceLocation)
        return result
    }

    /// The store's export, as bytes.
    func exportBytes() async throws -> Data {
        try await ok(["export", "--json"]).stdoutData
    }

    /// How many changes wait in the outbox.
    func outboxCount() async throws -> Int {
        let text = try await ok(["outbox", "--count"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return try #require(Int(text))
    }

    /// `show ID --json`, parsed.
    func showJSON(_ id: String) async throws -> JSONValue {
        try JSONValue(parsing: try await ok(["show", id, "--json"]).stdout)
    }
}

extension JSONValue {
    /// The value at a path of object keys, like `json["fields", "stage"]`.
    subscript(first: String, rest: String...) -> JSONValue? {
        rest.reduce(self[first]) { value, key in value?[key] }
    }
}
