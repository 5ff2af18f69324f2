import ArgumentParser
import Foundation
import OxpeckerStore

/// Measures the store against the goals of the performance issue: write cost against
/// raw SQLite, opening a customer with its context, and full-text search.
@main
struct OxpeckerBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oxpecker-bench",
        abstract: "Runs every Oxpecker benchmark: store writes (against raw SQLite), profile reads, search, the contact gate, the wire codec, sync through the server, and the server under load.",
        discussion: """
            Run from the repository root, in release mode (it runs oxpecker-sync-bench, oxpecker-load and
            oxpecker-server, built with it, as child processes):
              swift run -c release --package-path Benchmarks oxpecker-bench [--quick] [--markdown BENCHMARKS.md]
            With --markdown, the figures already in that file are shown as "previous" next to the new ones.
            """)

    enum Part: String, ExpressibleByArgument, CaseIterable {
        case all, writes, reads, codec, gate, sync, load, encryption
    }

    enum DurabilityChoice: String, ExpressibleByArgument, CaseIterable {
        case both, full, normal
    }

    @Flag(help: "Small sizes and few runs: a smoke test, not a measurement.")
    var quick = false

    @Option(help: "Also write the results as Markdown to this file.")
    var markdown: String?

    @Option(help: "Which figures to measure: all, writes, reads, codec, gate, sync, load or encryption (writes, open customer and search, encrypted store against plain).")
    var only: Part = .all

    @Option(help: "Durability of the write comparison: both, full or normal.")
    var durability: DurabilityChoice = .both

    @Option(help: "Runs per figure (default 5, 3 with --quick).")
    var runs: Int?

    @Option(help: "Customers in the read fixture (default 100000, 5000 with --quick).")
    var customers: Int?

    @Option(help: "Field changes in the write comparison, ten per customer (default 100000, 10000 with --quick).")
    var changes: Int?

    @Option(help: "Keep the read fixture at this path, and reuse it when it is there already (for profiling reads).")
    var fixture: String?

    @Option(help: "Customers of the full-size sync run: bootstrap and memory of a device pulling 13 changes per customer (default 100000, 10000 with --quick).")
    var fullCustomers: Int?

    @Option(help: "Seconds each load run measures (default 60, 15 with --quick).")
    var loadSeconds: Double?

    @Option(help: "Customers of the repeated sync runs, 13 changes each (default 20000, 2000 with --quick).")
    var syncCustomers: Int?

    @Option(help: "Runs of the sync figures at their measuring size (default 3, 1 with --quick).")
    var syncRuns: Int?

    @Option(help: "Runs of each load configuration (default 3, 1 with --quick).")
    var loadRuns: Int?

    @Flag(help: "Skip the PostgreSQL load figures even when PostgreSQL is installed.")
    var noPostgres = false

    @Option(help: "Where to make the temporary folder (default: the system's temporary folder).")
    var temporaryDirectory: String?

    mutating func validate() throws {
        if let runs, runs < 1 { throw ValidationError("--runs must be at least 1") }
        if let customers, customers < 1 { throw ValidationError("--customers must be at least 1") }
        if let changes, changes < 10 || changes % 10 != 0 { throw ValidationError("--changes must be a multiple of 10") }
    }

    func run() throws {
        let runs = self.runs ?? (quick ? 3 : 5)
        let fixtureSize = customers ?? (quick ? 5_000 : 100_000)
        let changeCount = changes ?? (quick ? 10_000 : 100_000)
        let batchSize = 1000
        let lookupsPerRun = quick ? 300 : 2_000
        let searchesPerRun = quick ? 10 : 40

        let parent = temporaryDirectory ?? FileManager.default.temporaryDirectory.path
        let directory = parent + "/oxpecker-bench-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let machine = try Machine.describe()
        var report = Report(command: "swift run -c release --package-path Benchmarks oxpecker-bench " + CommandLine.arguments.dropFirst().joined(separator: " "), machine: machine)
        report.command = report.command.trimmingCharacters(in: .whitespaces)
        log("oxpecker-bench (\(machine.build)) in \(directory)")
        machine.lines.forEach { log("  " + $0) }

        if only == .all || only == .writes {
            let durabilities: [Durability] = switch durability {
            case .both: [.full, .normal]
            case .full: [.full]
            case .normal: [.normal]
            }
            let benchmark = WriteBenchmark(customerCount: changeCount / 10, batchSize: batchSize, directory: directory)
            for durability in durabilities {
                log("1. writes, synchronous = \(durability.label): \(changeCount) field changes of \(changeCount / 10) customers, \(batchSize) per transaction, \(runs) runs")
                let result = try benchmark.run(durability: durability, runs: runs, progress: log)
                report.addWrites(result, batchSize: batchSize)
            }
        }

        if [.all, .reads, .gate, .encryption].contains(only) {
            log("building the read fixture: \(fixtureSize) customers with their context")
            let fixture = try Fixture.reuse(count: fixtureSize, path: self.fixture ?? "")
                ?? Fixture.build(count: fixtureSize, directory: directory, path: self.fixture, progress: log)
            defer { try? fixture.store.close() }
            if only == .all || only == .encryption {
                let encryption = EncryptionBenchmark(runs: runs)
                let writes = WriteBenchmark(customerCount: changeCount / 10, batchSize: batchSize, directory: directory)
                log("7. encrypted store against plain: writes, synchronous = full, \(runs) runs each, in turns")
                report.addEncryption(try encryption.writes(writes, durability: .full, progress: log))
                log("  building the encrypted read fixture: \(fixtureSize) customers")
                let encrypted = try Fixture.build(count: fixtureSize, directory: directory, key: encryption.key, progress: log)
                defer { try? encrypted.store.close() }
                let size = { (path: String) in ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil) ?? 0 }
                report.details.append(
                    "Encrypted read fixture: built like the plain one in \(formatDuration(encrypted.buildSeconds)) "
                        + "(plain: \(fixture.reused ? "reused" : formatDuration(fixture.buildSeconds))), file "
                        + "\(format(Double(size(encrypted.path)) / 1_048_576, digits: 0)) MiB (plain \(format(Double(size(fixture.path)) / 1_048_576, digits: 0)) MiB)")
                log("  open customer and search, \(runs) runs each, in turns")
                for comparison in try encryption.reads(
                    plain: fixture, encrypted: encrypted, lookupsPerRun: lookupsPerRun, searchesPerRun: searchesPerRun, progress: log)
                {
                    report.addEncryption(comparison)
                }
            }
            let size = (try? FileManager.default.attributesOfItem(atPath: fixture.path)[.size] as? Int) ?? nil
            if fixture.reused {
                report.details.append("Read fixture: reused from \(fixture.path) (`--fixture`)")
            } else {
                report.details.append(
                    "Read fixture: \(fixtureSize) customers, \(fixture.changes) changes written through the store API in "
                        + "\(formatDuration(fixture.buildSeconds)) (\(format(Double(fixture.changes) / fixture.buildSeconds, digits: 0)) changes/s, "
                        + "durability .normal, 1000 customers per transaction)"
                        + (size.map { ", file \(format(Double($0) / 1_048_576, digits: 0)) MiB" } ?? ""))
                log("  built in \(formatDuration(fixture.buildSeconds))")
            }

            if only != .gate && only != .encryption {
                log("2. profile(of:) of random customers: \(runs) runs × \(lookupsPerRun) lookups")
                let profiles = try ReadBenchmarks.profiles(in: fixture, runs: runs, lookupsPerRun: lookupsPerRun, progress: log)
                report.addProfiles(profiles.perCall, inOneRead: profiles.inOneRead, customers: fixtureSize)

                log("3. search: \(runs) runs × \(searchesPerRun) searches per query")
                let searches = try ReadBenchmarks.search(in: fixture, runs: runs, repetitionsPerRun: searchesPerRun, progress: log)
                for search in searches {
                    report.addSearch(search.query, samples: search.samples, matching: search.hits, customers: fixtureSize)
                }
            }
            if only == .all || only == .gate {
                log("5. contact gate: \(runs) runs × \(lookupsPerRun) calls, against a raw SQLite point lookup")
                let gate = try GateBenchmark.run(in: fixture, runs: runs, callsPerRun: lookupsPerRun, progress: log)
                report.addGate(gate, customers: fixtureSize)
            }
        }
        if only == .all || only == .codec {
            log("4. codec: encode + decode \(changeCount) changes in push pages of 500, protocol layer and Foundation, \(runs) runs")
            let codec = try CodecBenchmark(changeCount: changeCount, pageSize: 500)
            report.addCodec(try codec.run(runs: runs, progress: log))
        }
        let syncRuns = self.syncRuns ?? (quick ? 1 : 3)
        let loadRuns = self.loadRuns ?? (quick ? 1 : 3)
        if only == .all || only == .sync {
            let full = fullCustomers ?? (quick ? 10_000 : 100_000)
            let size = syncCustomers ?? (quick ? 2_000 : 20_000)
            log("5. sync through the server: \(syncRuns) runs of \(size) customers, one of \(full)")
            try SyncFigures(
                binary: ChildProcess.sibling("oxpecker-sync-bench"), customers: size, runs: syncRuns, fullCustomers: full, directory: directory
            ).measure(into: &report)
        }
        if only == .all || only == .load {
            let serverBinary = ChildProcess.sibling("oxpecker-server")
            let withPostgres = !noPostgres && LoadFigures.serverSupportsPostgres(serverBinary)
            if !noPostgres, !withPostgres { log("  this oxpecker-server has no PostgreSQL backend (serve --postgres): SQLite figures only") }
            let postgres = withPostgres ? PostgresCluster.start(in: directory, progress: log) : nil
            defer { postgres?.stop() }
            let figures = LoadFigures(
                binary: ChildProcess.sibling("oxpecker-load"), serverBinary: serverBinary,
                seconds: loadSeconds ?? (quick ? 15 : 60), runs: loadRuns, directory: directory, postgres: postgres)
            log("6. the server under load: \(figures.configurations.map(\.label).joined(separator: "; ")), \(loadRuns) runs each")
            try figures.measure(into: &report, progress: log)
        }
        report.details.append(
            "Each latency is one call timed alone on ContinuousClock, including `readNow` (a pooled reader and its read transaction); "
                + "for latencies, min–max is the range of the per-run medians; for writes it is the range of whole runs.")
        report.details.append(
            "Measured in one invocation on a shared 2-core machine: other work on it shows as spread in min–max "
                + "(store and raw runs are interleaved so both see it); compare medians of separate invocations with care.")

        print("")
        print(report.text)
        if let markdown {
            let old = (try? String(contentsOfFile: markdown, encoding: .utf8)) ?? ""
            report.previous = Report.figures(inMarkdown: old)
            if let marker = old.range(of: Report.notesMarker) { report.keptNotes = String(old[marker.upperBound...]).trimmingCharacters(in: .newlines) }
            try report.markdown.write(toFile: markdown, atomically: true, encoding: .utf8)
            log("Markdown written to \(markdown)")
        }
    }
}

/// Progress goes to standard error, so that standard output holds only the results.
func log(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

extension Report {
    mutating func addWrites(_ result: WriteBenchmark.Result, batchSize: Int) {
        let store = result.store.median, raw = result.raw.median
        let perChange = { (seconds: Double) in format(seconds / Double(result.changes) * 1e6, digits: 1) + " µs/change" }
        let (low, high) = result.store.range
        let ratio = store / raw
        rows.append(
            Row(
                figure: "Write \(result.changes / 1000)k field changes via store, sync \(result.durability.label)",
                median: "\(formatDuration(store)) (\(perChange(store)))",
                range: "\(formatDuration(low))–\(formatDuration(high))",
                baseline: "raw SQLite \(formatDuration(raw)) (\(perChange(raw)))",
                ratio: format(ratio, digits: 2) + "×", goal: "≤ 2×", met: ratio <= 2 ? "yes" : "no"))
        let (rawLow, rawHigh) = result.raw.range
        details.append(
            "Writes, sync \(result.durability.label): \(result.store.runs.count) runs each, interleaved; raw SQLite range "
                + "\(formatDuration(rawLow))–\(formatDuration(rawHigh)); \(batchSize) changes per transaction; "
                + "store: `StoreWriter.set(_:to:of:)` of 10 fields per customer (2 of them names, which re-index search), "
                + "raw: one prepared INSERT (C API bind/step/reset) per change into a 4-column table")
    }

    mutating func addProfiles(_ perCall: Samples, inOneRead: Samples, customers: Int) {
        let median = perCall.median
        let (low, high) = perCall.range
        rows.append(
            Row(
                figure: "Open customer with context, \(customers / 1000)k customers",
                median: formatDuration(median), range: "\(formatDuration(low))–\(formatDuration(high))",
                baseline: "–", ratio: "–", goal: "< 100 µs", met: median < 100e-6 ? "yes" : "no"))
        details.append(
            "Profile: \(perCall.all.count) random lookups of `readNow { profile(of:) }`; p90 \(formatDuration(perCall.percentile(0.9))), "
                + "p99 \(formatDuration(perCall.percentile(0.99))); the queries alone, inside one read: median "
                + "\(formatDuration(inOneRead.median)), p99 \(formatDuration(inOneRead.percentile(0.99)))")
    }

    mutating func addSearch(_ query: ReadBenchmarks.Query, samples: Samples, matching: Int, customers: Int) {
        let median = samples.median
        let (low, high) = samples.range
        rows.append(
            Row(
                figure: "Search \"\(query.text)\" (\(query.label)), \(customers / 1000)k customers",
                median: formatDuration(median), range: "\(formatDuration(low))–\(formatDuration(high))",
                baseline: "–", ratio: "–", goal: "< 5 ms", met: median < 5e-3 ? "yes" : "no"))
        details.append(
            "Search \"\(query.text)\": \(samples.all.count) searches (top 20 by rank, with snippets), \(matching) matching documents; "
                + "p99 \(formatDuration(samples.percentile(0.99)))")
    }
}
