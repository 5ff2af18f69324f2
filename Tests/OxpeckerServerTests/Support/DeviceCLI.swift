import Foundation
import OxpeckerProtocol
import Testing

/// One device: a store file driven through the real `oxpecker` CLI.
struct DeviceCLI: Sendable {
    /// The folder the store lives in (kept alive by this value).
    let folder: ScratchFolder
    /// The store's file name in the folder.
    let store: String

    /// A device with a new store (`oxpecker init`); returns it and its replica id.
    static func create(in folder: ScratchFolder, named store: String) async throws -> (DeviceCLI, ReplicaID) {
        let device = DeviceCLI(folder: folder, store: store)
        let replica = try await device.ok(["init"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return (device, try #require(ReplicaID(rawValue: replica), "init printed no replica id"))
    }

    /// Starts `oxpecker ARGS --store STORE` without waiting.
    func start(_ arguments: [String], environment: [String: String] = [:]) throws -> ChildProcess {
        try ChildProcess(BuiltProducts.oxpecker, arguments + ["--store", store], in: folder.url, environment: environment)
    }

    /// Runs `oxpecker ARGS --store STORE` and waits for it.
    func run(_ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(180)) async throws -> ProcessResult {
        try await start(arguments, environment: environment).wait(timeout: timeout)
    }

    /// Runs a command that must succeed.
    @discardableResult
    func ok(_ arguments: [String], environment: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation) async throws
        -> ProcessResult
    {
        let result = try await run(arguments, environment: environment)
        #expect(result.succeeded, "oxpecker \(arguments) failed (\(result.status)): \(result.stderr)", sourceLocation: sourceLocation)
        return result
    }

    /// `oxpecker sync --server URL --token TOKEN --json`, which must succeed; returns the summary.
    @discardableResult
    func sync(_ server: SyncServerProcess, token: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> JSONValue {
        let result = try await ok(["sync", "--server", server.url, "--token", token, "--json"], sourceLocation: sourceLocation)
        return try JSONValue(parsing: result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// `export --json`, as bytes.
    func exportBytes() async throws -> Data {
        try await ok(["export", "--json"]).stdoutData
    }

    /// How many changes wait in the outbox.
    func outboxCount() async throws -> Int {
        try #require(Int(try await ok(["outbox", "--count"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
    }
}

extension JSONValue {
    /// The integer at `key` of an object, or nil.
    func integer(_ key: String) -> Int64? {
        guard case .object(let members) = self, case .integer(let value)? = members[key] else { return nil }
        return value
    }
}
