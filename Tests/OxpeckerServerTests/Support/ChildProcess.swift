import Foundation
import OxpeckerTestSupport
import Testing

/// The executables this package builds, found next to the running test bundle
/// (as `swift build` / `swift test` lay them out), or named by an environment
/// variable (`OXPECKER_BINARY`, `OXPECKER_SERVER_BINARY`).
enum BuiltProducts {
    /// The device CLI.
    static let oxpecker = locate("oxpecker", override: "OXPECKER_BINARY")
    /// The sync server.
    static let server = locate("oxpecker-server", override: "OXPECKER_SERVER_BINARY")

    private static func locate(_ name: String, override: String) -> URL {
        if let path = ProcessInfo.processInfo.environment[override] { return URL(fileURLWithPath: path) }
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            let candidate = folder.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            folder.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name)
    }
}

/// What one finished process did.
struct ProcessResult: Sendable {
    let status: Int32
    /// Whether a signal ended the process (then `status` is the signal's number).
    let signaled: Bool
    let stdoutData: Data
    let stderr: String

    var stdout: String { String(decoding: stdoutData, as: UTF8.self) }
    var succeeded: Bool { !signaled && status == 0 }
}

/// A process started by a test, its output going to files (never pipes: a
/// chatty child can never block on a full pipe). Killed with SIGKILL when
/// released while still running, so that a failing test leaves nothing behind.
final class ChildProcess: Sendable {
    let process: SpawnedProcess
    let stdoutURL: URL
    let stderrURL: URL

    /// Starts `executable ARGUMENTS` in `folder`, with `environment` added to this process's.
    init(_ executable: URL, _ arguments: [String], in folder: URL, environment: [String: String] = [:]) throws {
        var variables = ProcessInfo.processInfo.environment
        for name in ["OXPECKER_STORE", "OXPECKER_TOKEN", "OXPECKER_SERVER", "OXPECKER_DATA_DIR", "OXPECKER_PORT"] {
            variables.removeValue(forKey: name)
        }
        variables.merge(environment) { _, new in new }
        let name = UUID().uuidString
        stdoutURL = folder.appendingPathComponent(".\(name).out")
        stderrURL = folder.appendingPathComponent(".\(name).err")
        guard FileManager.default.createFile(atPath: stdoutURL.path, contents: nil),
            FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        else { throw CocoaError(.fileWriteUnknown) }
        process = try SpawnedProcess(
            executable: executable.path, arguments: arguments, environment: variables, directory: folder.path,
            stdout: stdoutURL.path, stderr: stderrURL.path)
    }

    deinit {
        // The process is killed and reaped when released (SpawnedProcess).
        try? FileManager.default.removeItem(at: stdoutURL)
        try? FileManager.default.removeItem(at: stderrURL)
    }

    var pid: Int32 { process.pid }
    var isRunning: Bool { process.isRunning }

    /// What the process has written so far.
    var stdoutSoFar: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    var stderrSoFar: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    /// Sends `signal` (SIGKILL by default) and waits for the process to end.
    func kill(_ signal: Int32 = SIGKILL) {
        guard process.isRunning else { return }
        process.send(signal)
        process.waitUntilExit()
    }

    /// Waits for the process to end; kills it and records an issue after `timeout`.
    func wait(timeout: Duration = .seconds(120)) async throws -> ProcessResult {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                kill()
                Issue.record("\((process.executable as NSString).lastPathComponent) \(process.arguments) did not finish within \(timeout)")
                break
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        process.waitUntilExit()
        return ProcessResult(
            status: process.terminationStatus, signaled: process.signaled,
            stdoutData: (try? Data(contentsOf: stdoutURL)) ?? Data(), stderr: stderrSoFar)
    }

    /// Waits until `condition` holds for the process's output so far, at most `timeout`.
    func waitForOutput(timeout: Duration = .seconds(30), _ condition: (_ stdout: String, _ stderr: String) -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(stdoutSoFar, stderrSoFar) { return true }
            guard process.isRunning else { return condition(stdoutSoFar, stderrSoFar) }
            try await Task.sleep(for: .milliseconds(5))
        }
        return false
    }
}

/// A new empty folder, removed with everything in it when released.
final class ScratchFolder: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("oxpecker-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    /// A path inside the folder.
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}
