import ArgumentParser
import AsyncHTTPClient
import Foundation
import Histogram
import OxpeckerProtocol
import OxpeckerSync
import Synchronization

/// Committed changes per second of N concurrent pushers against K `oxpecker-server`
/// instances on one PostgreSQL database, for each K and N asked, beside a baseline
/// binary (an earlier build) on a database of its own, alternated in the same run.
struct PushThroughputCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pushes",
        abstract: "Committed changes/s of concurrent pushers against oxpecker-server instances on one PostgreSQL database, beside a baseline binary.",
        discussion: """
            Each pusher is a store of its own pushing batches of profile writes of its own customers, as fast as the \
            server answers, to the instances in turn. Every combination of --instance-counts and --pusher-counts runs \
            for --seconds with the measured binary, then with --baseline-binary on --baseline-database (fresh servers \
            each time), --rounds times, alternating which goes first. Example:
              oxpecker-load pushes --database postgres://…/a --baseline-database postgres://…/b \\
                --baseline-binary /tmp/old/.build/release/oxpecker-server --instance-counts 1,2,4 --pusher-counts 8,32
            """)

    @Option(help: "The PostgreSQL database (a loopback URL) of the measured servers.")
    var database: String

    @Option(help: "The measured oxpecker-server binary (default: the one next to this executable).")
    var binary: String?

    @Option(help: "An earlier oxpecker-server binary to measure beside it.")
    var baselineBinary: String?

    @Option(help: "The PostgreSQL database of the baseline's servers (another than --database).")
    var baselineDatabase: String?

    @Option(help: "Instance counts to measure, comma-separated.")
    var instanceCounts: String = "1,2,4"

    @Option(help: "Concurrent pusher counts to measure, comma-separated.")
    var pusherCounts: String = "8,32"

    @Option(help: "Seconds each combination pushes (after one second of warm-up).")
    var seconds: Double = 10

    @Option(help: "Changes in each push.")
    var batch: Int = 20

    @Option(help: "How many times every combination runs, alternating the binaries.")
    var rounds: Int = 1

    var instances: [Int] { instanceCounts.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
    var pushers: [Int] { pusherCounts.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func validate() throws {
        guard !instances.isEmpty, instances.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--instance-counts: counts of at least 1") }
        guard !pushers.isEmpty, pushers.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--pusher-counts: counts of at least 1") }
        guard seconds > 0, batch >= 1, rounds >= 1 else { throw ValidationError("--seconds, --batch and --rounds must be positive") }
        guard (baselineBinary == nil) == (baselineDatabase == nil) else {
            throw ValidationError("--baseline-binary and --baseline-database go together")
        }
        if let baselineDatabase, baselineDatabase == database { throw ValidationError("the baseline needs a database of its own") }
        for url in [database] + (baselineDatabase.map { [$0] } ?? []) where !LoadCommand.isLoopback(url) {
            throw ValidationError(LoadError.notLoopback(url).description)
        }
    }

    /// One binary on one database.
    struct Subject {
        let name: String
        let binary: String
        let postgres: String
    }

    func run() async throws {
        let binary = self.binary ?? ServerFleet.siblingBinary()
        var subjects = [Subject(name: "this build", binary: binary, postgres: database)]
        if let baselineBinary, let baselineDatabase { subjects.append(Subject(name: "baseline", binary: baselineBinary, postgres: baselineDatabase)) }
        for subject in subjects where !FileManager.default.isExecutableFile(atPath: subject.binary) {
            throw LoadError.setup("no oxpecker-server at \(subject.binary)")
        }
        let folder = FileManager.default.temporaryDirectory.path + "/oxpecker-pushes-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }

        var http = HTTPClient.Configuration()
        http.redirectConfiguration = .disallow
        http.timeout = HTTPClient.Configuration.Timeout(connect: .seconds(10), read: .seconds(120))
        http.connectionPool = HTTPClient.Configuration.ConnectionPool(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(8, pushers.max() ?? 8))
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: http)
        do {
            try await measureAll(subjects, client: client, folder: folder)
            try await client.shutdown()
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private func measureAll(_ subjects: [Subject], client: HTTPClient, folder: String) async throws {
        var results: [String: [Outcome]] = [:]
        var run = 0
        for round in 1...rounds {
            for count in instances {
                for pusherCount in pushers {
                    for subject in round % 2 == 1 ? subjects : subjects.reversed() {
                        run += 1
                        let outcome = try await measure(
                            subject, instances: count, pushers: pusherCount, client: client, folder: folder + "/run-\(run)", run: run)
                        note("round \(round), \(subject.name), \(count) instance(s), \(pusherCount) pushers: \(outcome.line)")
                        results["\(count)/\(pusherCount)/\(subject.name)", default: []].append(outcome)
                    }
                }
            }
        }
        print("| instances | pushers | this build: changes/s (pushes/s; push p50 / p99) | baseline | ratio |")
        print("| --- | --- | --- | --- | --- |")
        for count in instances {
            for pusherCount in pushers {
                let measured = results["\(count)/\(pusherCount)/this build"] ?? []
                let baseline = results["\(count)/\(pusherCount)/baseline"] ?? []
                let ratio = baseline.isEmpty ? "–" : String(format: "%.2f×", Outcome.median(measured) / max(Outcome.median(baseline), 0.001))
                print("| \(count) | \(pusherCount) | \(Outcome.describe(measured)) | \(baseline.isEmpty ? "–" : Outcome.describe(baseline)) | \(ratio) |")
            }
        }
    }

    /// What one combination did.
    struct Outcome {
        let changesPerSecond: Double
        let pushesPerSecond: Double
        let p50: Double
        let p99: Double
        let errors: Int

        var line: String {
            String(format: "%.0f changes/s (%.0f pushes/s; p50 %.1f / p99 %.1f ms)", changesPerSecond, pushesPerSecond, p50, p99)
                + (errors > 0 ? ", \(errors) failed pushes" : "")
        }

        static func median(_ outcomes: [Outcome]) -> Double {
            let sorted = outcomes.map(\.changesPerSecond).sorted()
            guard !sorted.isEmpty else { return 0 }
            return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }

        static func describe(_ outcomes: [Outcome]) -> String {
            guard let first = outcomes.first else { return "–" }
            let values = outcomes.map(\.changesPerSecond)
            let spread = outcomes.count > 1 ? String(format: " [%.0f–%.0f]", values.min() ?? 0, values.max() ?? 0) : ""
            return String(format: "%.0f%@ (%.0f; %.1f / %.1f ms)", median(outcomes), spread, first.pushesPerSecond, first.p50, first.p99)
                + (outcomes.contains { $0.errors > 0 } ? ", failures" : "")
        }
    }

    /// Counts shared by the pushers of one combination.
    final class Tally: Sendable {
        private struct State {
            var changes = 0
            var pushes = 0
            var errors = 0
            var latency = Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
        }
        private let state = Mutex(State())
        let measuring = Atomic<Bool>(false)
        let stopped = Atomic<Bool>(false)

        func record(accepted: Int, microseconds: UInt64) {
            guard measuring.load(ordering: .relaxed) else { return }
            state.withLock {
                $0.changes += accepted
                $0.pushes += 1
                $0.latency.record(max(1, microseconds))
            }
        }

        func recordError() { state.withLock { $0.errors += 1 } }

        func outcome(seconds: Double) -> Outcome {
            state.withLock {
                Outcome(
                    changesPerSecond: Double($0.changes) / seconds, pushesPerSecond: Double($0.pushes) / seconds,
                    p50: Double($0.latency.valueAtPercentile(50)) / 1000, p99: Double($0.latency.valueAtPercentile(99)) / 1000, errors: $0.errors)
            }
        }
    }

    private func measure(_ subject: Subject, instances: Int, pushers: Int, client: HTTPClient, folder: String, run: Int) async throws -> Outcome {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let backend = ["--postgres", subject.postgres]
        let scope = "branch:pushes"
        let token = try ServerProcess.createToken(binary: subject.binary, backend: backend, scopes: [scope])
        var processes: [ServerProcess] = []
        defer { for process in processes { process.stop() } }
        for index in 0..<instances {
            processes.append(try ServerProcess(binary: subject.binary, backend: backend, folder: folder, name: "server-\(index)"))
        }
        let transports = try processes.map { try HTTPSyncTransport(server: $0.url, client: client) }
        let headers = [(ProtocolVersion.header, String(ProtocolVersion.current)), ("Authorization", "Bearer \(token)")]
        let tally = Tally()
        let (batch, seconds) = (self.batch, self.seconds)
        // Stores and customers new to the database, whatever earlier runs left in it.
        let tag = "\(run)-\(UUID().uuidString.prefix(8).lowercased())"
        try await withThrowingTaskGroup(of: Void.self) { group in
            for pusher in 0..<pushers {
                group.addTask {
                    // A store of its own (a new replica each run) writing ten customers of its own.
                    let replica = ReplicaID(unchecked: "r-\(tag)-\(pusher)")
                    let customers = (0..<10).map { CustomerID(unchecked: "c-\(tag)-\(pusher)-\($0)") }
                    var number: Int64 = 0
                    var (wall, counter): (Int64, UInt32) = (0, 0)
                    func next(_ customer: CustomerID, field: String, kind: MergeKind, value: JSONValue) throws -> Change {
                        number += 1
                        let now = Int64(Date().timeIntervalSince1970 * 1000)
                        (wall, counter) = now > wall ? (now, 0) : (wall, counter + 1)
                        return Change(
                            replica: replica, number: number, hlc: try HybridTimestamp(wallMillis: wall, counter: counter, replica: replica),
                            customer: customer, entity: .profile, field: field, record: nil, kind: kind, value: value)
                    }
                    var changes = try customers.map { try next($0, field: "scopes", kind: .addWinsSet, value: ["element": .string(scope), "op": "add"]) }
                    var turn = pusher
                    while !tally.stopped.load(ordering: .relaxed) {
                        let body = WireCodec().encode(PushRequest(replica: replica, changes: changes))
                        let start = ContinuousClock.now
                        do {
                            let response = try await transports[turn % transports.count].post(path: "/v1/push", body: body, headers: headers)
                            guard response.status == 200 else {
                                tally.recordError()
                                note("push: HTTP \(response.status) \(String(decoding: response.body.prefix(300), as: UTF8.self))")
                                try await Task.sleep(for: .milliseconds(100))
                                continue
                            }
                            let results = try WireCodec().decode(PushResponse.self, from: response.body).results
                            tally.record(
                                accepted: results.filter { $0.outcome == .accepted }.count, microseconds: (ContinuousClock.now - start).microseconds)
                        } catch {
                            tally.recordError()
                            try await Task.sleep(for: .milliseconds(100))
                            continue
                        }
                        turn += 1
                        changes = try (0..<batch).map { index in
                            try next(customers[index % customers.count], field: "preferred_name", kind: .register, value: .string("Name \(number)"))
                        }
                    }
                }
            }
            group.addTask {
                try await Task.sleep(for: .seconds(1))
                tally.measuring.store(true, ordering: .relaxed)
                try await Task.sleep(for: .seconds(seconds))
                tally.measuring.store(false, ordering: .relaxed)
                tally.stopped.store(true, ordering: .relaxed)
            }
            try await group.waitForAll()
        }
        return tally.outcome(seconds: seconds)
    }
}
