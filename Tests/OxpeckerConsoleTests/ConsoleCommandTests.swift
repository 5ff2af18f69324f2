import Foundation
import HummingbirdTesting
import OxpeckerStore
import OxpeckerTestSupport
import Testing

/// `oxpecker console` as a person runs it: the real binary on a real store file.
@Suite("oxpecker console")
struct ConsoleCommandTests {
    /// The `oxpecker` executable `swift test` built next to the test bundle.
    static let binary: URL = {
        if let override = ProcessInfo.processInfo.environment["OXPECKER_BINARY"] { return URL(fileURLWithPath: override) }
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            let candidate = folder.appendingPathComponent("oxpecker")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            folder.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("oxpecker")
    }()

    @Test("prints a start URL on 127.0.0.1 with a secret key; the URL signs a browser in; Ctrl-C stops it with status 0")
    func startAndStop() async throws {
        try await ConsoleTestGate.shared.run { try await Self.startAndStopNow() }
    }

    private static func startAndStopNow() async throws {
        let folder = try ScratchFolder()
        let storePath = folder.path("branch.oxpecker")
        let store = try CustomerStore.create(at: storePath)
        try await TestCustomers.add(to: store)
        try store.close()
        let output = URL(fileURLWithPath: folder.path("console.out"))
        #expect(FileManager.default.createFile(atPath: output.path, contents: nil))
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "OXPECKER_TOKEN")
        let process = try SpawnedProcess(
            executable: Self.binary.path, arguments: ["console", "--port", "0", "--store", storePath], environment: environment,
            directory: folder.url.path, stdout: output.path, stderr: "/dev/null")
        defer { process.send(SIGTERM) }

        var url: URL?
        for _ in 0..<600 where url == nil {
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.contains("http://") }),
                let start = line.range(of: "http://")
            {
                url = URL(string: String(line[start.lowerBound...]))
            }
            if url == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        let start = try #require(url, "the command prints its URL")
        #expect(start.host == "127.0.0.1")
        let port = try #require(start.port)
        let key = try #require(start.query?.split(separator: "=").last)
        #expect(key.count == 64)

        var browser = Browser(port: port)
        #expect(try await browser.get("/").status == 403)
        let signIn = try await browser.get("/?key=\(key)")
        #expect(signIn.status == 303)
        browser.cookie = signIn.sessionCookie
        let home = try await browser.get("/?q=novakova")
        #expect(home.status == 200 && home.body.contains("Jana Nováková"))

        process.send(SIGINT)
        for _ in 0..<300 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!process.isRunning, "Ctrl-C stops the console")
        if !process.isRunning { #expect(process.terminationStatus == 0) }
    }

    @Test("a port out of range is invalid input (status 4)")
    func badPort() async throws {
        try await ConsoleTestGate.shared.run { try await Self.badPortNow() }
    }

    private static func badPortNow() async throws {
        let folder = try ScratchFolder()
        let storePath = folder.path("branch.oxpecker")
        try CustomerStore.create(at: storePath).close()
        let process = try SpawnedProcess(
            executable: Self.binary.path, arguments: ["console", "--port", "70000", "--store", storePath],
            environment: ProcessInfo.processInfo.environment, directory: folder.url.path, stdout: "/dev/null", stderr: "/dev/null")
        for _ in 0..<300 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!process.isRunning)
        if !process.isRunning { #expect(process.terminationStatus == 4) }
    }
}
