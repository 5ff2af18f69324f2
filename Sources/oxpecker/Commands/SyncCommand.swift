import ArgumentParser
import Dispatch
import Foundation
import Logging
import OxpeckerProtocol
import OxpeckerStore
import OxpeckerSync

/// `oxpecker sync --server URL [--token TOKEN]`: pushes this store's outbox to
/// the sync server and pulls everyone else's changes, then prints a summary.
struct SyncCommand: ParsableCommand {
    /// The environment variable holding the device token when `--token` is not given.
    static let tokenVariable = "OXPECKER_TOKEN"
    /// The environment variable naming the server when `--server` is not given.
    static let serverVariable = "OXPECKER_SERVER"
    /// The environment variable naming the CA file when `--ca-file` is not given.
    static let certificateAuthorityVariable = "OXPECKER_CA_FILE"

    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Push this store's changes to the sync server and pull everyone else's.",
        discussion: """
            The server is --server, else $\(serverVariable), else the server this store last synced with. \
            The device token (from `oxpecker-server token create`) is --token, else $\(tokenVariable). \
            An https server must present a certificate from an authority the system trusts or, with \
            --ca-file (else $\(certificateAuthorityVariable)), from one in that PEM file (a bank's internal CA); \
            a server that fails is refused at once, before the token is sent.

            Every page and batch is committed with its checkpoint: an interrupted sync resumes where it \
            stopped, and nothing is lost or sent twice. Network errors, 408, 429 and 5xx answers are \
            retried with backoff for up to --retry-for seconds per request; other refusals (a bad token, \
            an unsupported protocol version) stop at once. Progress goes to standard error, the summary \
            to standard output. Exit status 7 when the server cannot be reached or refuses the sync.

            A device whose clock ran ahead recovers by itself once its clock is fixed: unsent changes \
            stamped beyond the server's clock-skew allowance are restamped from the server's time, in \
            order, and the summary says how many and by how much. While the device's clock is still \
            ahead beyond the allowance nothing is restamped, and the summary says to fix the clock.
            """)

    @OptionGroup var location: StoreLocation
    @Option(help: ArgumentHelp("The sync server's URL, like http://127.0.0.1:8080.", valueName: "url")) var server: String?
    @Option(help: ArgumentHelp("The device token (default: $\(SyncCommand.tokenVariable)).", valueName: "token")) var token: String?
    @Option(
        help: ArgumentHelp(
            "Trust only the certificate authorities in this PEM file for an https server (default: $\(SyncCommand.certificateAuthorityVariable)).",
            valueName: "pem"))
    var caFile: String?
    @Option(help: ArgumentHelp("Give up on a request after retrying for this many seconds.", valueName: "seconds"))
    var retryFor = 60
    @Option(help: ArgumentHelp("The most attempts per request, the first included.", valueName: "count")) var maxAttempts = 8
    @Flag(help: "Print the summary as one canonical JSON object.") var json = false
    @Flag(help: "No progress lines.") var quiet = false
    @Flag(help: "Log each step and retry on standard error.") var verbose = false

    func run() throws {
        guard retryFor >= 0 else { throw InputError.invalid("--retry-for: must be 0 or more seconds, not \(retryFor)") }
        guard maxAttempts >= 1 else { throw InputError.invalid("--max-attempts: must be 1 or more, not \(maxAttempts)") }
        let environment = ProcessInfo.processInfo.environment
        guard let token = [token, environment[Self.tokenVariable]].compactMap({ $0 }).first(where: { !$0.isEmpty }) else {
            throw InputError.usage("no device token: pass --token TOKEN or set \(Self.tokenVariable)")
        }
        let store = try location.open()
        defer { try? store.close() }
        let remembered = try store.readNow { try $0.syncCheckpoint() }.server
        guard let server = [server, environment[Self.serverVariable], remembered].compactMap({ $0 }).first(where: { !$0.isEmpty }) else {
            throw InputError.usage("no server: pass --server URL or set \(Self.serverVariable)")
        }
        if let remembered, remembered != server {
            Console.error("warning: this store last synced with \(remembered); now syncing with \(server)")
        }

        var logger = Logger(label: "oxpecker.sync") { _ in StandardErrorLogHandler() }
        logger.logLevel = verbose ? .debug : .warning
        var configuration = SyncConfiguration(
            server: server, token: token, client: "oxpecker-cli/\(Oxpecker.configuration.version)",
            retry: RetryPolicy(maximumAttempts: maxAttempts, maximumElapsed: .seconds(retryFor)))
        configuration.certificateAuthorityFile = [caFile, environment[Self.certificateAuthorityVariable]].compactMap { $0 }
            .first { !$0.isEmpty }
        let client = try SyncClient(store: store, configuration: configuration, logger: logger)
        let reporter = ProgressReporter(enabled: !quiet)
        let summary = try Self.waitFor { try await client.sync(progress: reporter.report) }
        Console.out(json ? Self.jsonForm(of: summary).canonicalText : Self.text(of: summary, server: server))
    }

    /// `pushed 12, pulled 30, purged 0, conflicts 1, rejections 0 in 0.41 s` and a line per rejection.
    static func text(of summary: SyncSummary, server: String) -> String {
        var pushed = "pushed \(summary.pushed)"
        if summary.duplicates > 0 { pushed += " (\(summary.duplicates) already there)" }
        var lines = [
            "synced with \(server): \(pushed), pulled \(summary.pulled), purged \(summary.purged), "
                + "conflicts \(summary.conflicts), rejections \(summary.rejections.count) in \(seconds(summary.duration)) s"
        ]
        if summary.serverLogChanged {
            lines.append(
                "the server's log is not the one this store synced with (restored from a backup?): bootstrapped again and pushed again "
                    + "\(summary.resent) change\(summary.resent == 1 ? "" : "s") it had acknowledged (\(summary.duplicates) it still had)")
        }
        lines += summary.clockRecoveries.map { clockLine($0, pending: summary.pending) }
        if summary.bootstrappedCustomers > 0 {
            lines.append("bootstrap: \(summary.bootstrappedCustomers) customer\(summary.bootstrappedCustomers == 1 ? "" : "s")")
        }
        for rejection in summary.rejections {
            let fate =
                rejection.reason == .customerErased
                ? "dropped: the customer was erased"
                : rejection.reason == .outOfScope ? "not in this device's scopes: the customer leaves this store, the change is kept aside for a person"
                : rejection.permanent ? "kept aside for a person" : "kept in the outbox for the next sync"
            lines.append(
                "rejected: change \(rejection.number) (\(rejection.customer)): \(rejection.reason.rawValue): \(rejection.message) (\(fate))")
        }
        for purge in summary.purges {
            let why = purge.reason == .erased ? "erased by the bank" : "no longer in this device's scopes"
            var line = "purged: \(purge.customer) (\(why))"
            if purge.droppedOutboxChanges > 0 {
                line += ", \(purge.droppedOutboxChanges) unsent change\(purge.droppedOutboxChanges == 1 ? "" : "s") dropped"
            }
            lines.append(line)
        }
        if summary.pending > 0 { lines.append("outbox: \(summary.pending) change\(summary.pending == 1 ? "" : "s") still waiting") }
        if summary.parked > 0 { lines.append("parked: \(summary.parked) changes of a newer version, applied after an upgrade") }
        if summary.unapplied > 0 { lines.append("unapplied: \(summary.unapplied) received changes were invalid for this store") }
        if summary.conflicts > 0 { lines.append("conflicts: \(summary.conflicts) to resolve; see `oxpecker conflicts`") }
        return lines.joined(separator: "\n")
    }

    /// What a sync did about stamps ahead of the server's clock, for people.
    static func clockLine(_ recovery: ClockRecoveryResult, pending: Int) -> String {
        switch recovery {
        case .restamped(let report):
            let before = report.clockBefore.map { " (its last stamp was at \(Instant(millisecondsSince1970: $0.wallMillis)))" } ?? ""
            guard report.restamped > 0, let numbers = report.numbers, let shift = report.shiftMillis else {
                return "clock: this store's clock was ahead of the server's beyond its allowance\(before); it was moved back (no unsent change was ahead)"
            }
            let range = numbers.lowerBound == numbers.upperBound ? "change \(numbers.lowerBound)" : "changes \(numbers.lowerBound)–\(numbers.upperBound)"
            let (least, most) = (span(shift.lowerBound), span(shift.upperBound))
            let by = least == most ? least : "\(least) to \(most)"
            return "clock: restamped \(report.restamped) unsent change\(report.restamped == 1 ? "" : "s") (\(range)) stamped ahead of the server's clock: "
                + "moved back by \(by), order kept; the store's clock moved back too\(before)"
        case .deviceClockAhead(let ahead, let allowance):
            let waiting = pending > 0 ? " (\(pending) change\(pending == 1 ? "" : "s") wait in the outbox)" : ""
            return "clock: this device's clock is \(span(ahead)) ahead of the server's, which accepts at most \(span(allowance)): "
                + "changes are refused (clock_skew) and nothing was restamped; fix this device's clock and sync again\(waiting)"
        case .blocked(let stamp, let allowance):
            return "clock: cannot restamp: this store holds \(stamp), stamped more than \(span(allowance)) ahead of the server's clock "
                + "by another replica or already on the server; the server's clock may be behind: ask its operators"
        }
    }

    /// `3 h 2 min`, `4 min 30 s`, `12 s`, `250 ms`.
    static func span(_ milliseconds: Int64) -> String {
        let magnitude = milliseconds.magnitude
        let seconds = magnitude / 1000
        let text: String
        if seconds >= 3600 {
            text = "\(seconds / 3600) h" + (seconds % 3600 / 60 > 0 ? " \(seconds % 3600 / 60) min" : "")
        } else if seconds >= 60 {
            text = "\(seconds / 60) min" + (seconds % 60 > 0 ? " \(seconds % 60) s" : "")
        } else if seconds > 0 {
            text = "\(seconds) s"
        } else {
            text = "\(magnitude) ms"
        }
        return milliseconds < 0 ? "-" + text : text
    }

    /// The summary as `--json` prints it.
    static func jsonForm(of summary: SyncSummary) -> JSONValue {
        [
            "pushed": .integer(Int64(summary.pushed)), "duplicates": .integer(Int64(summary.duplicates)),
            "pulled": .integer(Int64(summary.pulled)), "applied": .integer(Int64(summary.applied)),
            "bootstrapped_customers": .integer(Int64(summary.bootstrappedCustomers)), "purged": .integer(Int64(summary.purged)),
            "parked": .integer(Int64(summary.parked)), "unapplied": .integer(Int64(summary.unapplied)),
            "conflicts": .integer(Int64(summary.conflicts)), "pending": .integer(Int64(summary.pending)),
            "server_log_changed": .bool(summary.serverLogChanged), "resent": .integer(Int64(summary.resent)),
            "duration_ms": .integer(Int64(summary.duration.components.seconds * 1000 + summary.duration.components.attoseconds / 1_000_000_000_000_000)),
            "purges": .array(
                summary.purges.map { purge -> JSONValue in
                    [
                        "customer": .string(purge.customer.rawValue), "reason": .string(purge.reason.rawValue),
                        "existed": .bool(purge.existed), "dropped_outbox_changes": .integer(Int64(purge.droppedOutboxChanges)),
                    ]
                }),
            "clock_recoveries": .array(summary.clockRecoveries.map(jsonForm(of:))),
            "rejections": .array(
                summary.rejections.map { rejection -> JSONValue in
                    [
                        "number": .integer(rejection.number), "customer": .string(rejection.customer.rawValue),
                        "reason": .string(rejection.reason.rawValue), "message": .string(rejection.message),
                        "permanent": .bool(rejection.permanent),
                    ]
                }),
        ]
    }

    /// One clock recovery as `--json` prints it: `outcome` is `restamped`, `device_clock_ahead` or `blocked`.
    static func jsonForm(of recovery: ClockRecoveryResult) -> JSONValue {
        switch recovery {
        case .restamped(let report):
            var object: [String: JSONValue] = ["outcome": "restamped", "restamped": .integer(Int64(report.restamped)), "rewritten_rows": .integer(Int64(report.rewrittenRows))]
            if let numbers = report.numbers { object["numbers"] = [.integer(numbers.lowerBound), .integer(numbers.upperBound)] }
            if let shift = report.shiftMillis { object["shift_ms"] = [.integer(shift.lowerBound), .integer(shift.upperBound)] }
            if let before = report.clockBefore { object["clock_before"] = .string(before.description) }
            if let after = report.clockAfter { object["clock_after"] = .string(after.description) }
            return .object(object)
        case .deviceClockAhead(let ahead, let allowance):
            return ["outcome": "device_clock_ahead", "ahead_ms": .integer(ahead), "allowance_ms": .integer(allowance)]
        case .blocked(let stamp, let allowance):
            return ["outcome": "blocked", "stamp": .string(stamp.description), "allowance_ms": .integer(allowance)]
        }
    }

    private static func seconds(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return String(format: "%.2f", Double(milliseconds) / 1000)
    }

    /// Runs `body` on the cooperative pool and blocks this (main) thread until it ends:
    /// the commands of `oxpecker` are synchronous.
    static func waitFor<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let outcome = Outcome<T>()
        let done = DispatchSemaphore(value: 0)
        Task {
            do { outcome.result = .success(try await body()) } catch { outcome.result = .failure(error) }
            done.signal()
        }
        done.wait()
        guard let result = outcome.result else { throw OutputError(description: "the sync ended without a result") }
        return try result.get()
    }
}

/// The result of a task, handed to the thread that waits for it.
private final class Outcome<T: Sendable>: @unchecked Sendable {
    // Written once by the task before it signals the semaphore, read by the
    // waiting thread only after the semaphore: the semaphore orders the two.
    var result: Result<T, any Error>?
}

/// Progress lines on standard error, for long syncs only: once the sync has run
/// for a second or moved a thousand changes or customers, at most four lines a second.
private final class ProgressReporter: Sendable {
    private let enabled: Bool
    private let state = LockedState()

    init(enabled: Bool) { self.enabled = enabled }

    func report(_ progress: SyncProgress) {
        guard enabled else { return }
        let line: String
        let count: Int
        switch progress.phase {
        case .hello: return
        case .bootstrap: (line, count) = ("sync: bootstrap, \(progress.bootstrapped) customers", progress.bootstrapped)
        case .push: (line, count) = ("sync: pushed \(progress.pushed) of \(progress.toPush) changes", progress.pushed)
        case .pull: (line, count) = ("sync: pulled \(progress.pulled) changes", progress.pulled)
        }
        guard count > 0, state.shouldPrint(phase: progress.phase, count: count) else { return }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// When the sync started and the last line was printed, behind a lock: the sync reports from its own task.
    private final class LockedState: @unchecked Sendable {
        // Every access holds `lock`.
        private let lock = NSLock()
        private let start = ContinuousClock.now
        private var lastPhase: SyncProgress.Phase?
        private var lastPrint: ContinuousClock.Instant?

        func shouldPrint(phase: SyncProgress.Phase, count: Int) -> Bool {
            lock.lock()
            defer { lock.unlock() }
            let now = ContinuousClock.now
            guard now - start >= .seconds(1) || count >= 1000 else { return false }
            if let lastPrint, phase == lastPhase, now - lastPrint < .milliseconds(250) { return false }
            lastPhase = phase
            lastPrint = now
            return true
        }
    }
}

/// Log lines for people on standard error: `warning: retrying (attempt=1, endpoint=/v1/push, …)`.
private struct StandardErrorLogHandler: LogHandler {
    var logLevel: Logger.Level = .warning
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        all.removeValue(forKey: "replica")
        let details = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        let line = "\(event.level): \(event.message)" + (details.isEmpty ? "" : " (\(details))") + "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
