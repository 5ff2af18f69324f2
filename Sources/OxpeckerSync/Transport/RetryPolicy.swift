/// How a sync client retries a request that failed for a reason that may pass:
/// a network error, `408`, `429` or a `5xx` answer. Exponential backoff with
/// jitter, bounded by a number of attempts and by the time spent on one request.
///
/// ```swift
/// var retry = RetryPolicy.standard
/// retry.maximumElapsed = .seconds(10)
/// ```
///
/// The delay itself is a pure function of the attempt and a random number, so
/// it can be tested without waiting.
public struct RetryPolicy: Sendable, Hashable {
    /// The most attempts of one request, the first included (1: never retry).
    public var maximumAttempts: Int
    /// The most time one request may take, retries and waits included: no new
    /// attempt starts once a wait would end past it.
    public var maximumElapsed: Duration
    /// The base of the first wait.
    public var initialDelay: Duration
    /// The largest base of a wait (a `Retry-After` from the server may ask for longer, within ``maximumElapsed``).
    public var maximumDelay: Duration
    /// How much the base grows per attempt.
    public var multiplier: Double

    /// Makes a policy.
    public init(
        maximumAttempts: Int = 8, maximumElapsed: Duration = .seconds(60), initialDelay: Duration = .milliseconds(200),
        maximumDelay: Duration = .seconds(10), multiplier: Double = 2
    ) {
        self.maximumAttempts = max(1, maximumAttempts)
        self.maximumElapsed = maximumElapsed
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.multiplier = max(1, multiplier)
    }

    /// Eight attempts within a minute, waits from 0.2 s growing to 10 s.
    public static let standard = RetryPolicy()

    /// One attempt only.
    public static let never = RetryPolicy(maximumAttempts: 1)

    /// The wait after failed attempt number `attempt` (1 for the first).
    ///
    /// "Equal jitter": half of the exponential base for sure, the other half
    /// scaled by `random` (in 0...1), so that devices that failed together do
    /// not come back together, yet none retries at once. A server's `Retry-After`
    /// is a floor.
    public func delay(afterAttempt attempt: Int, retryAfter: Duration? = nil, random: Double) -> Duration {
        let exponent = Double(max(0, attempt - 1))
        let initial = initialDelay.seconds
        let base = min(maximumDelay.seconds, initial * pow(multiplier, exponent))
        let jittered = base / 2 + base / 2 * min(1, max(0, random))
        let seconds = max(jittered, retryAfter?.seconds ?? 0)
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}

/// `pow` without Foundation: the base is small and the exponent a small whole number.
private func pow(_ base: Double, _ exponent: Double) -> Double {
    var result = 1.0
    var remaining = Int(min(exponent, 64))
    while remaining > 0 {
        result *= base
        remaining -= 1
    }
    return result
}
