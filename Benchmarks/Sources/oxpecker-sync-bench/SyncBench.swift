import ArgumentParser
import BenchmarkResults
import Foundation

/// Sync throughput over loopback HTTP with the real server (embedded SQLite),
/// against raw SQLite inserts of the same number of rows: upstream (a device
/// pushes N changes), downstream (a second device, in a process of its own,
/// pulls them), and bootstrap (a new device gets C customers as a snapshot);
/// several runs at one size, then one at the full size.
@main
struct SyncBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oxpecker-sync-bench",
        abstract: "Push, pull and bootstrap through a real oxpecker-server on loopback, with raw SQLite as the baseline.",
        discussion: "oxpecker-bench runs it and puts its figures in BENCHMARKS.md.",
        subcommands: [Measure.self, PullingDevice.self, ApplyBench.self, CompactionBench.self],
        defaultSubcommand: Measure.self)
}

struct Measure: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "measure", abstract: "Measure push, pull and bootstrap (the default).")

    @Option(help: "Customers on the first device in the repeated runs (each is 13 changes: creation, 8 fields, 2 set elements, 2 notes).")
    var customers: Int = 20_000

    @Option(help: "Repeated runs at --customers.")
    var runs: Int = 3

    @Option(help: "Customers of the full-size run (bootstrap, memory of the pulling device); 0 skips it.")
    var fullCustomers: Int = 100_000

    @Flag(help: "Small sizes (2,000 customers, 2 runs, full size 10,000): a check that it works.")
    var quick = false

    @Option(help: "Also write the numbers as JSON to this file (read by oxpecker-bench).")
    var json: String?

    @Flag(help: "Each repeated run twice, in turns: the server's data plain and encrypted (--key-file, --key-store); prints the ratios.")
    var encryptedServer = false

    func validate() throws {
        guard customers >= 1, runs >= 1, fullCustomers >= 0 else {
            throw ValidationError("--customers and --runs must be at least 1, --full-customers at least 0")
        }
    }

    func run() async throws {
        let (size, count, full) = quick ? (2_000, 2, 10_000) : (customers, runs, fullCustomers)
        var results: [SyncResult.Run] = []
        var encryptedResults: [SyncResult.Run] = []
        for index in 1...count {
            note("run \(index) of \(count): \(size) customers")
            guard encryptedServer else {
                results.append(try await SyncRun(customers: size).measure())
                continue
            }
            // In turns, so that the machine's drift falls on both alike.
            for encrypted in index % 2 == 1 ? [false, true] : [true, false] {
                note("  server data \(encrypted ? "encrypted" : "plain")")
                let run = try await SyncRun(customers: size, encryptedServer: encrypted).measure()
                if encrypted { encryptedResults.append(run) } else { results.append(run) }
            }
        }
        for (plain, sealed) in zip(results, encryptedResults) {
            print(
                "encrypted server / plain, \(plain.changes) changes: push \(ratio(sealed.pushSeconds, plain.pushSeconds)), "
                    + "pull \(ratio(sealed.pullSeconds, plain.pullSeconds)), bootstrap \(ratio(sealed.bootstrapSeconds, plain.bootstrapSeconds)) "
                    + "(\(rate(sealed.changes, sealed.pushSeconds)) vs \(rate(plain.changes, plain.pushSeconds)) push; "
                    + "\(String(format: "%.2f s vs %.2f s", sealed.bootstrapSeconds, plain.bootstrapSeconds)) bootstrap); "
                    + "exports identical: \(sealed.identical ? "yes" : "NO")")
        }
        results += encryptedResults
        var fullRun: SyncResult.Run?
        if full > 0 {
            note("full-size run: \(full) customers")
            fullRun = try await SyncRun(customers: full).measure()
        }
        let result = SyncResult(runs: results, full: fullRun)
        for run in results + (fullRun.map { [$0] } ?? []) {
            print(
                "\(run.customers) customers, \(run.changes) changes: push \(rate(run.changes, run.pushSeconds)), pull \(rate(run.changes, run.pullSeconds)) "
                    + "(device peak \(Int(run.pullingDevicePeakMiB)) MiB), bootstrap \(String(format: "%.2f s", run.bootstrapSeconds)) "
                    + "(version 2's changes form \(run.bootstrapChangesFormSeconds.map { String(format: "%.2f s", $0) } ?? "–")), "
                    + "raw SQLite \(rate(run.changes, run.rawSeconds)); exports identical: \(run.identical ? "yes" : "NO")")
        }
        if let json { try result.write(to: json) }
        guard (results + (fullRun.map { [$0] } ?? [])).allSatisfy(\.identical) else { throw ExitCode.failure }
    }

    func rate(_ count: Int, _ seconds: Double) -> String { "\(Int(Double(count) / seconds)) changes/s" }
    func ratio(_ a: Double, _ b: Double) -> String { String(format: "%.2f×", a / b) }
}

func note(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
