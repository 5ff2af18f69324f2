/// A source of wall-clock time in milliseconds since 1970; injected so tests can
/// move it (also backwards).
public struct WallClock: Sendable {
    /// Reads the time.
    public let now: @Sendable () -> Int64

    /// A clock that reads `now`.
    public init(now: @escaping @Sendable () -> Int64) {
        self.now = now
    }

    /// The system clock.
    public static let system = WallClock {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}

/// How a store trades durability for write speed.
public enum Durability: Sendable {
    /// Every committed transaction survives a power loss (`synchronous = FULL`). The default.
    case full
    /// Committed transactions survive a crash or kill of the process, but the last ones
    /// may be lost on power loss (`synchronous = NORMAL`).
    case normal
}

/// How a store is opened.
public struct StoreOptions: Sendable {
    /// The wall clock that stamps changes.
    public var clock: WallClock
    /// Durability of commits.
    public var durability: Durability
    /// How long a writer waits for another process's write lock before failing.
    public var busyTimeoutSeconds: Double
    /// The key of an encrypted store: ``CustomerStore/create(at:options:)`` makes the
    /// store encrypted under it; ``CustomerStore/open(at:options:)`` needs it for an
    /// encrypted store and refuses it for a plain one. Nil: a plain store.
    public var key: StoreKey?
    /// How long a change the server acknowledged is kept, to be pushed again should the
    /// server be restored from a backup that lacks it (``StoreWriter/requeuePushedChanges()``):
    /// a restore from a backup older than this can no longer be filled in from this store.
    public var pushedChangeRetention: Duration
    /// Where the customers' data keys of an encrypted store live when they are kept
    /// apart from it (the sync server's key store); nil: in the store itself.
    @_spi(OxpeckerServer) public var customerKeys: (any CustomerKeyStore)?

    /// 30 days: the backups a server is restored from are rarely older.
    public static let defaultPushedChangeRetention: Duration = .seconds(30 * 24 * 3600)

    /// Options with safe defaults: system clock, full durability, 5 s busy timeout, no key,
    /// pushed changes kept for ``defaultPushedChangeRetention``.
    public init(
        clock: WallClock = .system, durability: Durability = .full, busyTimeoutSeconds: Double = 5, key: StoreKey? = nil,
        pushedChangeRetention: Duration = StoreOptions.defaultPushedChangeRetention
    ) {
        self.clock = clock
        self.durability = durability
        self.busyTimeoutSeconds = busyTimeoutSeconds
        self.key = key
        self.pushedChangeRetention = pushedChangeRetention
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
