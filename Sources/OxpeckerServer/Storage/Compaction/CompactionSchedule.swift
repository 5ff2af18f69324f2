import Logging
import OxpeckerProtocol
import OxpeckerStore
import ServiceLifecycle

/// When the server compacts its log by itself (``CompactionPolicy``): a first run
/// shortly after start, then one every `interval`, until the server stops.
public struct CompactionSchedule: Sendable, Hashable {
    /// The rule each run applies.
    public var policy: CompactionPolicy
    /// The time between two runs.
    public var interval: Duration
    /// The time from start to the first run.
    public var firstRunAfter: Duration

    public init(policy: CompactionPolicy = CompactionPolicy(), interval: Duration = .seconds(86_400), firstRunAfter: Duration = .seconds(60)) {
        self.policy = policy
        self.interval = interval
        self.firstRunAfter = firstRunAfter
    }
}

/// The schedule's runs, as a service of the application: a failed run is logged and
/// the next one comes at its time; a graceful shutdown ends the wait.
struct CompactionService: Service {
    let schedule: CompactionSchedule
    let storage: any ServerStorage
    let clock: WallClock
    let metrics: ServerMetrics
    let logger: Logger

    func run() async throws {
        var wait = schedule.firstRunAfter
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let pause = wait
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
            } catch {
                return  // shutting down
            }
            wait = schedule.interval
            do {
                let report = try await storage.compact(schedule.policy, at: Instant(millisecondsSince1970: clock.now()))
                metrics.compacted(report)
                logger.info("compacted the log: \(report.summary)")
            } catch {
                logger.error("log compaction failed; the next run is in \(schedule.interval)", metadata: ["error": "\(error)"])
            }
        }
    }
}
