/// Timings of one figure: every sample in seconds, grouped by run.
struct Samples {
    /// One array of samples per run.
    private(set) var runs: [[Double]] = []

    mutating func startRun() { runs.append([]) }

    /// Adds the runs of `other` after these (the same figure measured in turns).
    mutating func append(_ other: Samples) { runs += other.runs }

    mutating func add(_ seconds: Double) {
        if runs.isEmpty { startRun() }
        runs[runs.count - 1].append(seconds)
    }

    /// Every sample of every run.
    var all: [Double] { runs.flatMap { $0 } }

    /// The median of every sample.
    var median: Double { Self.percentile(all, 0.5) }

    /// The given percentile (0...1) of every sample.
    func percentile(_ p: Double) -> Double { Self.percentile(all, p) }

    /// The lowest and highest sample when every run has one sample (a whole-run
    /// timing); otherwise the lowest and highest of the per-run medians.
    var range: (min: Double, max: Double) {
        let values = runs.allSatisfy { $0.count == 1 } ? all : runs.map { Self.percentile($0, 0.5) }
        return (values.min() ?? .nan, values.max() ?? .nan)
    }

    /// Whether `range` is over per-run medians rather than single samples.
    var rangeIsOfRunMedians: Bool { !runs.allSatisfy { $0.count == 1 } }

    static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        if p == 0.5 {
            let middle = sorted.count / 2
            return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        }
        let index = min(sorted.count - 1, max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1))
        return sorted[index]
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
    }
}

/// Times `body` once on the continuous clock; returns its result and the seconds it took.
func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let clock = ContinuousClock()
    let start = clock.now
    let result = try body()
    return (result, (clock.now - start).seconds)
}

/// Formats seconds with a unit that fits: s, ms or µs.
func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "–" }
    if seconds >= 1 { return format(seconds, digits: 2) + " s" }
    if seconds >= 1e-3 { return format(seconds * 1e3, digits: seconds >= 0.1 ? 0 : 2) + " ms" }
    return format(seconds * 1e6, digits: seconds >= 1e-4 ? 0 : 1) + " µs"
}

/// `value` with `digits` digits after the point.
func format(_ value: Double, digits: Int) -> String {
    guard value.isFinite else { return "–" }
    var factor = 1.0
    for _ in 0..<digits { factor *= 10 }
    let rounded = (value * factor).rounded() / factor
    var text = String(rounded)
    if let dot = text.firstIndex(of: ".") {
        let decimals = text.distance(from: dot, to: text.endIndex) - 1
        if digits == 0 {
            text = String(text[..<dot])
        } else if decimals < digits {
            text += String(repeating: "0", count: digits - decimals)
        }
    }
    return text
}
