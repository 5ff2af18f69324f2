import Foundation
import OxpeckerProtocol
import Testing

/// `oxpecker sync` of a laptop whose clock ran three hours ahead, with the real
/// binaries: the CLI runs under `faketime` (Debian's package, libfaketime) while
/// the clock is wrong, and without it once the clock is fixed. (The `faketime`
/// wrapper, not `LD_PRELOAD` set by this process: a Swift executable started
/// straight with libfaketime preloaded loses its arguments.)
@Suite("End to end: oxpecker sync recovers a clock that ran ahead", .serialized)
struct EndToEndClockTests {
    /// Debian's `faketime`; the test is skipped without it.
    static let faketime = "/usr/bin/faketime"

    /// Runs `oxpecker ARGS` on `device`'s store with its wall clock three hours ahead (monotonic clocks stay true); it must succeed.
    @discardableResult
    static func threeHoursAhead(_ device: DeviceCLI, _ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws -> ProcessResult {
        let process = try ChildProcess(
            URL(fileURLWithPath: faketime), ["--exclude-monotonic", "-f", "+3h", BuiltProducts.oxpecker.path] + arguments + ["--store", device.store],
            in: device.folder.url)
        let result = try await process.wait(timeout: .seconds(180))
        #expect(result.succeeded, "oxpecker \(arguments) failed (\(result.status)): \(result.stderr)", sourceLocation: sourceLocation)
        return result
    }

    @Test(
        "three hours ahead: refused, told to fix the clock; fixed: the CLI restamps every unsent change, says so, and the devices converge",
        .enabled(if: FileManager.default.isExecutableFile(atPath: faketime), "needs faketime: apt-get install faketime"))
    func cliRecoversTheClock() async throws {
        let server = try await SyncServerProcess.start(.sqlite)
        defer { server.killNow() }
        let token = try await server.createToken(name: "laptop")
        let folder = try ScratchFolder()
        let (laptop, _) = try await DeviceCLI.create(in: folder, named: "laptop.oxpecker")
        try await Self.threeHoursAhead(
            laptop, ["customer", "add", "c-1001", "--legal-name", "Jana Nováková", "--scope", "branch:HN01", "--add", "interests=sailing"])
        try await Self.threeHoursAhead(laptop, ["customer", "remove-from", "c-1001", "interests", "sailing"])
        try await Self.threeHoursAhead(laptop, ["note", "add", "c-1001", "--text", "Asked about a mortgage", "--author", "a-417", "--channel", "branch"])
        #expect(try await laptop.outboxCount() == 6)

        let refused = try await Self.threeHoursAhead(laptop, ["sync", "--server", server.url, "--token", token])
        #expect(refused.stdout.contains("rejections 6"), "\(refused.stdout)")
        #expect(refused.stdout.contains("clock: this device's clock is 3 h ahead of the server's, which accepts at most 5 min"), "\(refused.stdout)")
        #expect(refused.stdout.contains("fix this device's clock and sync again (6 changes wait in the outbox)"), "\(refused.stdout)")
        #expect(refused.stderr.contains("fix the clock"), "\(refused.stderr)")

        // The clock is fixed. A note written now is still stamped three hours ahead by the store's clock.
        try await laptop.ok(["note", "add", "c-1001", "--text", "Called back", "--author", "a-417", "--channel", "phone"])
        let recovered = try await laptop.ok(["sync", "--server", server.url, "--token", token])
        #expect(recovered.stdout.contains("pushed 7,"), "\(recovered.stdout)")
        #expect(recovered.stdout.contains("rejections 0"), "\(recovered.stdout)")
        #expect(recovered.stdout.contains("clock: restamped 7 unsent changes (changes 1–7) stamped ahead of the server's clock: moved back by 2 h 5"), "\(recovered.stdout)")  // 3 h less the minutes the test took
        #expect(try await laptop.outboxCount() == 0)

        let again = try await laptop.sync(server, token: token)
        #expect(again["clock_recoveries"]?.arrayValue?.isEmpty == true, "recovered once; the next sync has nothing to do")

        let (desk, _) = try await DeviceCLI.create(in: folder, named: "desk.oxpecker")
        try await desk.sync(server, token: try await server.createToken(name: "desk"))
        #expect(try await desk.exportBytes() == laptop.exportBytes())
    }
}
