import BenchmarkResults
import Foundation
import Histogram
import OxpeckerSync
import Synchronization

/// The kinds of request a device sends, by endpoint.
enum RequestKind: String, CaseIterable, Codable, Sendable {
    case hello, bootstrap, push, pull

    init(path: String) {
        self = Self.allCases.first { path.hasSuffix("/" + $0.rawValue) } ?? .hello
    }
}

/// Everything the devices' requests did: latency per kind (HdrHistogram, in
/// microseconds), answers by status, failures without an answer by kind, and the
/// changes syncs pushed and pulled. Shared by every device; one lock.
final class RequestRecorder: Sendable {
    private struct State {
        var latency: [RequestKind: Histogram<UInt64>] = [:]
        var statuses: [Int: Int] = [:]
        var errors: [String: Int] = [:]
        var pushed = 0
        var pulled = 0
        var syncs = 0
    }

    private let state = Mutex(State())

    func record(_ kind: RequestKind, microseconds: UInt64, status: Int) {
        state.withLock { state in
            state.latency[kind, default: Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)]
                .record(max(1, microseconds))
            state.statuses[status, default: 0] += 1
            if status >= 400 { state.errors["HTTP \(status) on \(kind.rawValue)", default: 0] += 1 }
        }
    }

    func recordError(_ kind: String) {
        state.withLock { $0.errors[kind, default: 0] += 1 }
    }

    func recordSync(pushed: Int, pulled: Int) {
        state.withLock {
            $0.pushed += pushed
            $0.pulled += pulled
            $0.syncs += 1
        }
    }

    /// Forgets everything recorded so far (the setup phase is not measured).
    func reset() { state.withLock { $0 = State() } }

    /// What was recorded, as plain numbers.
    func summary(seconds: Double) -> LoadResult.Traffic {
        state.withLock { state in
            let kinds = RequestKind.allCases.compactMap { kind -> LoadResult.Latency? in
                guard let histogram = state.latency[kind], histogram.totalCount > 0 else { return nil }
                func ms(_ percentile: Double) -> Double { Double(histogram.valueAtPercentile(percentile)) / 1000 }
                return LoadResult.Latency(
                    kind: kind.rawValue, count: Int(histogram.totalCount), p50: ms(50), p90: ms(90), p99: ms(99), max: Double(histogram.maxRecorded) / 1000)
            }
            let fiveHundreds = state.statuses.filter { $0.key >= 500 }.values.reduce(0, +)
            return LoadResult.Traffic(
                seconds: seconds, syncs: state.syncs, pushed: state.pushed, pulled: state.pulled,
                requests: state.statuses.values.reduce(0, +), serverErrors: fiveHundreds,
                statuses: Dictionary(uniqueKeysWithValues: state.statuses.map { (String($0.key), $0.value) }),
                errors: state.errors, latency: kinds)
        }
    }
}

/// A ``SyncTransport`` that times every request on the way through and tells the recorder.
struct MeasuringTransport: SyncTransport {
    let inner: any SyncTransport
    let recorder: RequestRecorder

    func post(path: String, body: [UInt8], headers: [(name: String, value: String)]) async throws -> TransportResponse {
        let kind = RequestKind(path: path)
        let start = ContinuousClock.now
        do {
            let response = try await inner.post(path: path, body: body, headers: headers)
            recorder.record(kind, microseconds: (ContinuousClock.now - start).microseconds, status: response.status)
            return response
        } catch let failure as TransportFailure {
            recorder.recordError("no answer to \(kind.rawValue): \(failure.description)")
            throw failure
        }
    }
}

extension Duration {
    var microseconds: UInt64 {
        let parts = components
        return UInt64(max(0, parts.seconds)) * 1_000_000 + UInt64(max(0, parts.attoseconds) / 1_000_000_000_000)
    }

    var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
    }
}
