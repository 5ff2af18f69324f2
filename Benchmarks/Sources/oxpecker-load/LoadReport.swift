import Foundation
import BenchmarkResults

extension LoadRun {
    /// The results for people: throughput, latency per request kind, errors, checks, CPU.
    static func text(_ result: LoadResult) -> String {
        let setup = result.setup, traffic = result.traffic, check = result.verification
        func number(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }
        var lines = [
            "oxpecker-load: \(setup.devices) devices, \(setup.backend) × \(setup.instances), \(setup.customers) pool customers, \(number(setup.seconds)) s measured (seed \(setup.seed))",
            "throughput: \(number(Double(traffic.pushed) / traffic.seconds, 0)) changes/s pushed, \(number(Double(traffic.pulled) / traffic.seconds, 0)) changes/s pulled, "
                + "\(number(Double(traffic.requests) / traffic.seconds, 0)) requests/s, \(traffic.syncs) syncs",
            "latency (ms)   count      p50      p90      p99      max",
        ]
        for kind in traffic.latency {
            lines.append(
                kind.kind.padding(toLength: 12, withPad: " ", startingAt: 0)
                    + [String(kind.count), number(kind.p50, 2), number(kind.p90, 2), number(kind.p99, 2), number(kind.max, 2)]
                    .map { String(repeating: " ", count: max(0, 9 - $0.count)) + $0 }.joined())
        }
        lines.append("5xx answers: \(traffic.serverErrors)")
        lines.append(traffic.errors.isEmpty ? "errors: none" : "errors:")
        for (kind, count) in traffic.errors.sorted(by: { $0.key < $1.key }) { lines.append("  \(count) × \(kind)") }
        lines.append(
            "checks: \(check.written) changes written, \(check.inLog) in the server's log; lost \(check.lost), duplicated \(check.duplicated); "
                + "devices differing from the reference (\(check.reference)): \(check.diverged); with unpushed changes: \(check.unpushed)")
        lines.append("CPU over the measured phase:")
        for usage in result.usage {
            lines.append(
                "  \(usage.name): \(number(usage.cpuSeconds)) s (\(number(usage.cpuSeconds / traffic.seconds * 100, 0)) % of one core)"
                    + (usage.peakMiB.map { ", peak RSS \(number($0, 0)) MiB" } ?? ""))
        }
        lines.append(result.passed ? "PASSED: converged, nothing lost or duplicated, no errors" : "FAILED")
        return lines.joined(separator: "\n")
    }
}
