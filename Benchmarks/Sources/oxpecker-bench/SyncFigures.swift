import BenchmarkResults
import Foundation

/// Figures 5–7: push, pull and bootstrap through the real server, and the memory
/// of a device pulling the full-size log, from `oxpecker-sync-bench` (run as a
/// child process: the pulling device's memory is measured in a process of its own).
struct SyncFigures {
    let binary: String
    let customers: Int
    let runs: Int
    let fullCustomers: Int
    let directory: String

    func measure(into report: inout Report) throws {
        let json = directory + "/sync.json"
        try ChildProcess.run(
            binary, ["measure", "--customers", String(customers), "--runs", String(runs), "--full-customers", String(fullCustomers), "--json", json])
        let result = try SyncResult.read(from: json)
        report.addSync(result)
    }
}

extension Report {
    mutating func addSync(_ result: SyncResult) {
        guard let first = result.runs.first else { return }
        let changes = first.changes
        var push = Samples(), pull = Samples(), bootstrap = Samples(), raw = Samples()
        for run in result.runs {
            push.startRun(); push.add(run.pushSeconds)
            pull.startRun(); pull.add(run.pullSeconds)
            bootstrap.startRun(); bootstrap.add(run.bootstrapSeconds)
            raw.startRun(); raw.add(run.rawSeconds)
        }
        func rate(_ seconds: Double) -> String { format(Double(changes) / seconds, digits: 0) + " changes/s" }
        func rates(_ samples: Samples) -> String {
            let (low, high) = samples.range
            return "\(format(Double(changes) / high, digits: 0))–\(format(Double(changes) / low, digits: 0))"
        }
        let rawText = "raw SQLite inserts \(rate(raw.median))"
        rows.append(
            Row(
                figure: "Push \(changes) changes through the server (\(first.customers / 1000)k customers; sync incl. pulling them back)",
                median: rate(push.median), range: rates(push), baseline: rawText, ratio: format(push.median / raw.median, digits: 1) + "× time",
                goal: "–", met: "–"))
        let pullRate = Double(changes) / pull.median
        rows.append(
            Row(
                figure: "Pull and apply \(changes) changes (a device in its own process)",
                median: rate(pull.median), range: rates(pull), baseline: rawText, ratio: format(pull.median / raw.median, digits: 1) + "× time",
                goal: "≥ 50,000 changes/s", met: pullRate >= 50_000 ? "yes" : "no"))
        let (low, high) = bootstrap.range
        rows.append(
            Row(
                figure: "Bootstrap \(first.customers / 1000)k customers (\(changes) changes)",
                median: formatDuration(bootstrap.median), range: "\(formatDuration(low))–\(formatDuration(high))", baseline: rawText,
                ratio: format(bootstrap.median / raw.median, digits: 1) + "× time", goal: "–", met: "–"))
        if let full = result.full {
            rows.append(
                Row(
                    figure: "Bootstrap \(full.customers / 1000)k customers (\(full.changes) changes)",
                    median: formatDuration(full.bootstrapSeconds), range: "1 run",
                    baseline: "raw SQLite inserts \(formatDuration(full.rawSeconds))",
                    ratio: format(full.bootstrapSeconds / full.rawSeconds, digits: 1) + "× time",
                    goal: full.customers >= 100_000 ? "≤ 10 s" : "≤ 10 s for 100k (ran \(full.customers / 1000)k)",
                    met: full.customers >= 100_000 ? (full.bootstrapSeconds <= 10 ? "yes" : "no") : "–"))
            let small = result.runs.map(\.pullingDevicePeakMiB).sorted()[result.runs.count / 2]
            let ratio = full.pullingDevicePeakMiB / small
            rows.append(
                Row(
                    figure: "Peak memory of a device pulling \(full.changes) changes (its own process, VmHWM)",
                    median: format(full.pullingDevicePeakMiB, digits: 0) + " MiB", range: "1 run",
                    baseline: "the same device pulling \(changes) changes: \(format(small, digits: 0)) MiB",
                    ratio: format(ratio, digits: 2) + "×", goal: "flat in log size", met: ratio <= 1.5 ? "yes" : "no"))
        }
        details.append(
            "Sync: `oxpecker-sync-bench`, \(result.runs.count) runs at \(first.customers) customers (13 changes each) and one at "
                + "\(result.full.map { String($0.customers) } ?? "–"); a real server (embedded SQLite, `synchronous = FULL`) on a loopback port in the "
                + "benchmark's process; device A pushes (batches of 500; the sync includes pulling its own changes back), device B, a child process, "
                + "pulls (pages of 1,000) and applies, device C bootstraps (pages of 200 customers); exports of A, B and C identical in every run: "
                + ((result.runs + (result.full.map { [$0] } ?? [])).allSatisfy(\.identical) ? "yes" : "NO")
                + "; baseline: one prepared INSERT per row, 1,000 per transaction, same number of rows")
    }
}

/// Runs a child process to its end, its output going to ours; throws if it fails.
enum ChildProcess {
    static func run(_ binary: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.standardOutput = FileHandle.standardError  // our standard output holds only the report
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchmarkFailure("\(URL(fileURLWithPath: binary).lastPathComponent) \(arguments.joined(separator: " ")) exited with status \(process.terminationStatus)")
        }
    }

    /// The executable `name` in the folder of this one (the Benchmarks package builds them together).
    static func sibling(_ name: String) -> String {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent(name).path
    }
}

struct BenchmarkFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
