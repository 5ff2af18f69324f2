import BenchmarkResults
import Foundation

/// Figure 8: the server under 100 and 500 concurrent simulated devices, on
/// SQLite and (when a PostgreSQL cluster is given) on PostgreSQL with one and two
/// instances, from `oxpecker-load` runs (child processes, real `oxpecker-server`
/// processes). Each configuration runs several times; figures are medians.
///
/// In those, every device shares one scope, so each pushed change is pulled and
/// applied by every device, all in the one oxpecker-load process: at 500 devices
/// that process, not the server, is what saturates the machine. The same 500
/// devices spread over 50 scopes (10 devices each) measure the server.
struct LoadFigures {
    struct Configuration {
        var devices: Int
        var backend: String
        var instances: Int
        /// Scopes the devices are spread over (`oxpecker-load --scopes`).
        var scopes = 1
        var label: String {
            "\(devices) devices, \(backend), \(instances) instance\(instances == 1 ? "" : "s")" + (scopes > 1 ? ", \(scopes) scopes" : "")
        }
    }

    let binary: String
    let serverBinary: String
    let seconds: Double
    let runs: Int
    let directory: String
    /// Makes a new empty database per run and returns its URL and the postmaster's PID; nil: no PostgreSQL.
    let postgres: PostgresCluster?

    /// Whether `oxpecker-server` has the PostgreSQL backend (`serve --postgres`).
    static func serverSupportsPostgres(_ binary: String) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--help"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text.contains("--postgres")
    }

    var configurations: [Configuration] {
        var list = [100, 500].map { Configuration(devices: $0, backend: "SQLite", instances: 1) }
        list.append(Configuration(devices: 500, backend: "SQLite", instances: 1, scopes: 50))
        if postgres != nil {
            for devices in [100, 500] {
                list += [1, 2].map { Configuration(devices: devices, backend: "PostgreSQL", instances: $0) }
            }
        }
        return list
    }

    func measure(into report: inout Report, progress: (String) -> Void) throws {
        var results: [(Configuration, [LoadResult])] = []
        for configuration in configurations {
            var list: [LoadResult] = []
            for run in 1...runs {
                progress("  \(configuration.label): run \(run) of \(runs), \(format(seconds, digits: 0)) s")
                let json =
                    directory + "/load-\(configuration.devices)-\(configuration.backend)-\(configuration.instances)-\(configuration.scopes)-\(run).json"
                var arguments = [
                    "--devices", String(configuration.devices), "--seconds", String(seconds), "--seed", String(run),
                    "--scopes", String(configuration.scopes), "--server-binary", serverBinary, "--json", json, "--temporary-directory", directory,
                ]
                if configuration.backend == "PostgreSQL", let postgres {
                    arguments += ["--postgres", try postgres.newDatabase(), "--instances", String(configuration.instances), "--postgres-pid", String(postgres.pid)]
                }
                // A failed check exits non-zero but still writes its results: they go in the report.
                try? ChildProcess.run(binary, arguments)
                guard let result = try? LoadResult.read(from: json) else {
                    report.details.append("Load, \(configuration.label), run \(run): oxpecker-load did not finish (no results; see its output)")
                    continue
                }
                list.append(result)
            }
            if !list.isEmpty { results.append((configuration, list)) }
        }
        report.addLoad(results, baseline: { configuration in
            // SQLite is the baseline of PostgreSQL with one instance; one instance is the baseline of two; one scope of several.
            let wanted: LoadFigures.Configuration? = configuration.scopes > 1
                ? Configuration(devices: configuration.devices, backend: configuration.backend, instances: configuration.instances)
                : configuration.instances == 2
                ? Configuration(devices: configuration.devices, backend: configuration.backend, instances: 1)
                : configuration.backend == "PostgreSQL" ? Configuration(devices: configuration.devices, backend: "SQLite", instances: 1) : nil
            guard let wanted else { return nil }
            return results.first { $0.0.label == wanted.label }.map { ($0.0, $0.1) }
        })
    }
}

extension Report {
    mutating func addLoad(_ results: [(LoadFigures.Configuration, [LoadResult])], baseline: (LoadFigures.Configuration) -> (LoadFigures.Configuration, [LoadResult])?) {
        func median(_ values: [Double]) -> Double { Samples.percentile(values, 0.5) }
        func pushed(_ list: [LoadResult]) -> [Double] { list.map { Double($0.traffic.pushed) / $0.traffic.seconds } }
        func pulled(_ list: [LoadResult]) -> [Double] { list.map { Double($0.traffic.pulled) / $0.traffic.seconds } }
        func p99(_ list: [LoadResult]) -> [Double] { list.compactMap { $0.traffic.latency.map(\.p99).max() } }
        for (configuration, list) in results {
            let base = baseline(configuration)
            let rate = median(pushed(list)) + median(pulled(list))
            let baseRate = base.map { median(pushed($0.1)) + median(pulled($0.1)) }
            let failures = list.filter { !$0.passed }.count
            let worstP99 = median(p99(list))
            let errors = list.map { $0.traffic.errors.values.reduce(0, +) + $0.traffic.serverErrors }.reduce(0, +)
            rows.append(
                Row(
                    figure: "Server under \(configuration.label): changes/s pushed + pulled",
                    median: "\(format(rate, digits: 0)) (\(format(median(pushed(list)), digits: 0)) + \(format(median(pulled(list)), digits: 0)))",
                    range: "\(format(pushed(list).min() ?? .nan, digits: 0))–\(format(pushed(list).max() ?? .nan, digits: 0)) pushed",
                    baseline: base.map { "\($0.0.label): \(format(baseRate ?? .nan, digits: 0))" } ?? "–",
                    ratio: baseRate.map { format(rate / $0, digits: 2) + "×" } ?? "–",
                    goal: configuration.instances == 2 ? "≥ 1.6× one instance" : "–",
                    met: configuration.instances == 2 ? ((baseRate.map { rate / $0 >= 1.6 } ?? false) ? "yes" : "no") : "–"))
            rows.append(
                Row(
                    figure: "Server under \(configuration.label): worst p99 latency of a request kind; errors; checks",
                    median: format(worstP99, digits: 1) + " ms",
                    range: "\(format(p99(list).min() ?? .nan, digits: 1))–\(format(p99(list).max() ?? .nan, digits: 1)) ms",
                    baseline: "–", ratio: "–", goal: "p99 ≤ 100 ms, 0 errors, converged",
                    met: worstP99 <= 100 && errors == 0 && failures == 0 ? "yes" : "no (\(errors) errors, \(failures) of \(list.count) runs failed checks)"))
            details.append(Self.loadDetail(configuration, list))
        }
    }

    static func loadDetail(_ configuration: LoadFigures.Configuration, _ list: [LoadResult]) -> String {
        var parts: [String] = []
        for (index, result) in list.enumerated() {
            let traffic = result.traffic, check = result.verification
            let latency = traffic.latency.map {
                "\($0.kind) \($0.count)× p50 \(format($0.p50, digits: 1)) / p90 \(format($0.p90, digits: 1)) / p99 \(format($0.p99, digits: 1)) / max \(format($0.max, digits: 1)) ms"
            }.joined(separator: ", ")
            let cpu = result.usage.map {
                "\($0.name) \(format($0.cpuSeconds / traffic.seconds * 100, digits: 0)) %" + ($0.peakMiB.map { " (peak \(format($0, digits: 0)) MiB)" } ?? "")
            }.joined(separator: ", ")
            let errors = traffic.errors.isEmpty ? "no errors" : traffic.errors.sorted { $0.key < $1.key }.map { "\($0.value)× \($0.key)" }.joined(separator: "; ")
            parts.append(
                "run \(index + 1): \(format(traffic.seconds, digits: 0)) s, \(traffic.syncs) syncs, \(traffic.requests) requests; \(latency); "
                    + "\(traffic.serverErrors) 5xx, \(errors); \(check.written) changes written, \(check.inLog) in the log, lost \(check.lost), "
                    + "duplicated \(check.duplicated), devices differing from their reference \(check.diverged) (\(check.reference)), "
                    + "with unpushed changes \(check.unpushed); "
                    + "CPU (share of one core): \(cpu)")
        }
        return "Load, \(configuration.label): " + parts.joined(separator: " — ")
    }
}
