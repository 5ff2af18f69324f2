import CoreMetrics
import Metrics
import NIOConcurrencyHelpers
import OxpeckerProtocol
import Prometheus

/// The server's metrics for operators, in the Prometheus text format on `GET /metrics`.
///
/// Counters and timers are recorded with swift-metrics through a Prometheus
/// registry of this application's own (not the process-wide metrics system,
/// so that every application, in tests too, counts only its own requests).
/// Gauges of the storage (log size, open conflicts, device lag) are read from
/// the storage when scraped.
///
/// Lag is labelled per device only for this server's own device tokens, by token
/// id (random, no personal data, as many as an administrator made). A JWT
/// caller's id holds its subject, which may be a person (an e-mail address) and
/// whose number has no bound: JWT callers are counted and their largest lag
/// shown, never one series per subject.
///
/// ```swift
/// let metrics = ServerMetrics()
/// metrics.pushed(response)
/// let text = try await metrics.exposition(of: storage)
/// ```
final class ServerMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    /// The log position each device token last pulled to (by token id): what its lag is measured from.
    private let pulledThrough = NIOLockedValueBox<[String: Int64]>([:])
    /// The same for JWT callers (by subject, in memory only, never exposed), at most ``jwtCallersTracked``.
    private let jwtPulledThrough = NIOLockedValueBox<[String: Int64]>([:])
    /// The most JWT callers whose position is kept; past it, the most caught-up one is forgotten.
    static let jwtCallersTracked = 10_000

    init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5),
        ]
        self.factory = factory
    }

    /// One request answered: counted by method, route and status, timed by method and route.
    func requestFinished(method: String, route: String, status: Int, duration: Duration) {
        CoreMetrics.Counter(
            label: "oxpecker_http_requests_total", dimensions: [("method", method), ("route", route), ("status", String(status))],
            factory: factory
        ).increment()
        CoreMetrics.Timer(label: "oxpecker_http_request_duration_seconds", dimensions: [("method", method), ("route", route)], factory: factory)
            .record(duration: duration)
    }

    /// A push stored: its changes counted by outcome.
    func pushed(_ response: PushResponse) {
        var byOutcome: [PushOutcome: Int] = [:]
        for result in response.results { byOutcome[result.outcome, default: 0] += 1 }
        for (outcome, count) in byOutcome {
            CoreMetrics.Counter(label: "oxpecker_changes_pushed_total", dimensions: [("outcome", outcome.rawValue)], factory: factory)
                .increment(by: count)
        }
    }

    /// A pull page served to `device`, which now holds the log up to its next `cursor`.
    func pulled(_ changes: Int, by device: DeviceIdentity, cursor: SyncCursor) {
        CoreMetrics.Counter(label: "oxpecker_changes_pulled_total", factory: factory).increment(by: changes)
        remember(cursor, of: device)
    }

    /// A bootstrap page served to `device`, which resumes pulling at `cursor`.
    func bootstrapped(_ customers: Int, by device: DeviceIdentity, cursor: SyncCursor) {
        CoreMetrics.Counter(label: "oxpecker_bootstrap_customers_total", factory: factory).increment(by: customers)
        remember(cursor, of: device)
    }

    private func remember(_ cursor: SyncCursor, of device: DeviceIdentity) {
        guard let position = try? FeedCursor.log(parsing: cursor).position else { return }
        guard device.isJWTCaller else {
            pulledThrough.withLockedValue { $0[device.tokenID] = position }
            return
        }
        jwtPulledThrough.withLockedValue { positions in
            if positions[device.tokenID] == nil, positions.count >= Self.jwtCallersTracked,
                let caughtUp = positions.max(by: { $0.value < $1.value })?.key
            {
                positions[caughtUp] = nil  // the least interesting one for the largest lag
            }
            positions[device.tokenID] = position
        }
    }

    /// A log compaction run by the server's schedule: what it removed, by kind.
    func compacted(_ report: CompactionReport) {
        let removed = [
            ("changes", report.removedChanges), ("subscriptions", report.removedSubscriptions),
            ("pushed_customers", report.removedPushedCustomers), ("membership_changes", report.removedMembershipChanges),
            ("tombstones", report.removedTombstones),
        ]
        for (kind, count) in removed {
            CoreMetrics.Counter(label: "oxpecker_compaction_removed_total", dimensions: [("kind", kind)], factory: factory).increment(by: count)
        }
        CoreMetrics.Counter(label: "oxpecker_compactions_total", factory: factory).increment()
    }

    /// The storage's gauges, read now, and every metric in the Prometheus text exposition format.
    func exposition(of storage: any ServerStorage) async throws -> [UInt8] {
        let statistics = try await storage.statistics()
        gauge("oxpecker_log_changes", Double(statistics.logChanges))
        gauge("oxpecker_log_head_position", Double(statistics.logHead))
        gauge("oxpecker_open_conflicts", Double(statistics.openConflicts))
        gauge("oxpecker_purges_pending", Double(statistics.purgesPending))
        gauge("oxpecker_subscriptions", Double(statistics.subscriptions))
        gauge("oxpecker_log_horizon_timestamp_seconds", statistics.horizon.map { Double($0.millisecondsSince1970) / 1000 } ?? 0)
        for (token, position) in pulledThrough.withLockedValue({ $0 }) {
            gauge("oxpecker_device_lag_changes", Double(max(0, statistics.logHead - position)), [("device", token)])
        }
        let jwtPositions = jwtPulledThrough.withLockedValue { Array($0.values) }
        gauge("oxpecker_jwt_devices", Double(jwtPositions.count))
        gauge("oxpecker_jwt_device_lag_changes_max", Double(max(0, statistics.logHead - (jwtPositions.min() ?? statistics.logHead))))
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }

    private func gauge(_ name: String, _ value: Double, _ dimensions: [(String, String)] = []) {
        CoreMetrics.Gauge(label: name, dimensions: dimensions, factory: factory).record(value)
    }
}
