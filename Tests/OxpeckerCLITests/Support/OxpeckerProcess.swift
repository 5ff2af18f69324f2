import Foundation
import OxpeckerTestSupport
import Testing

/// What one run of the `oxpecker` binary did.
struct RunResult: Sendable {
    let status: Int32
    /// Whether the process was ended by a signal (then `status` is the signal number).
    let signaled: Bool
    let stdoutData: Data
    let stderr: String

    var stdout: String { String(decoding: stdoutData, as: UTF8.self) }
    /// Standard output split into lines, without the empty one after the last newline.
    var lines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
    var succeeded: Bool { !signaled && status == 0 }
}

/// The real `oxpecker` executable, built next to the test bundle, run in a folder on a store.
struct OxpeckerBinary: Sendable {
    /// Where the test run put the executable: the folder of the running test binary (or a parent of it).
    static let url: URL = {
        if let override = ProcessInfo.processInfo.environment["OXPECKER_BINARY"] {
            return URL(fileURLWithPath: override)
        }
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            let candidate = folder.appendingPathComponent("oxpecker")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            folder.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("oxpecker")
    }()

    /// The folder the process runs in, kept alive as long as this value is used.
    let owner: TemporaryFolder
    /// Passed as `--store` when not nil.
    let store: String?

    var folder: URL { owner.url }

    /// The store file's full path.
    var storePath: String { folder.appendingPathComponent(store ?? "customers.oxpecker").path }

    /// Runs `oxpecker ARGS [--store STORE]` and waits for it, at most `timeout`.
    func run(_ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(300)) async throws -> RunResult {
        let running = try start(arguments, environment: environment)
        return try await running.wait(timeout: timeout)
    }

    /// Starts `oxpecker ARGS [--store STORE]` without waiting.
    func start(_ arguments: [String], environment: [String: String] = [:]) throws -> RunningProcess {
        var variables = ProcessInfo.processInfo.environment
        variables.removeValue(forKey: "OXPECKER_STORE")
        variables.merge(environment) { _, new in new }
        // Output goes to files, not pipes: a large export can never block the child on a full pipe.
        let name = UUID().uuidString
        let stdoutURL = folder.appendingPathComponent(".\(name).out")
        let stderrURL = folder.appendingPathComponent(".\(name).err")
        guard FileManager.default.createFile(atPath: stdoutURL.path, contents: nil),
            FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        else { throw CocoaError(.fileWriteUnknown) }
        let process = try SpawnedProcess(
            executable: Self.url.path, arguments: arguments + (store.map { ["--store", $0] } ?? []), environment: variables,
            directory: folder.path, stdout: stdoutURL.path, stderr: stderrURL.path)
        return RunningProcess(process: process, stdoutURL: stdoutURL, stderrURL: stderrURL)
    }
}

/// An `oxpecker` process started by a test.
final class RunningProcess: Sendable {
    let process: SpawnedProcess
    let stdoutURL: URL
    let stderrURL: URL

    init(process: SpawnedProcess, stdoutURL: URL, stderrURL: URL) {
        self.process = process
        self.stdoutURL = stdoutURL
        self.stderrURL = stderrURL
    }

    var pid: Int32 { process.pid }

    /// What the process has written to standard error so far.
    var stderrSoFar: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    /// Waits for the process to end; kills it and fails after `timeout`.
    func wait(timeout: Duration = .seconds(300)) async throws -> RunResult {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                process.send(SIGKILL)
                process.waitUntilExit()
                Issue.record("oxpecker \(process.arguments) did not finish within \(timeout)")
                break
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        process.waitUntilExit()
        defer {
            try? FileManager.default.removeItem(at: stdoutURL)
            try? FileManager.default.removeItem(at: stderrURL)
        }
        return RunResult(
            status: process.terminationStatus, signaled: process.signaled,
            stdoutData: (try? Data(contentsOf: stdoutURL)) ?? Data(), stderr: stderrSoFar)
    }
}

/// A new empty folder, removed with everything in it when the value is released.
final class TemporaryFolder: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("oxpecker-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    /// A path inside the folder.
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// The CLI, run in this folder on the store `store` (nil: no `--store`, the default file or the environment).
    func oxpecker(store: String? = "test.oxpecker") -> OxpeckerBinary { OxpeckerBinary(owner: self, store: store) }
}
