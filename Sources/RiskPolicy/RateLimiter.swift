/// One provider's request rate, as a value: a token bucket at the current limit (at most `maxRate` a second, the
/// `*_MAX_RPS` setting; none by default), lowered when the provider throttles and raised again step by step.
///
/// - Throttling signals (HTTP 429, number-scoring code 4, phone-risk 10019) lower the limit to 90 % of the rate the
///   provider accepted over the last second (but never below half of it at once), at most once per
///   `decreaseInterval`, once they are at least two and 5 % of the calls in the current second (a signal now and
///   then, about one number, does not slow every call down); every signal holds the calls until the provider's
///   `Retry-After` has passed.
/// - Each `increaseInterval` without a throttling signal raises the limit by 5 % (at least one call a second), up
///   to `maxRate`; with no maximum the limit keeps growing, and traffic is bounded by the work in flight.
/// - After a circuit breaker closes, ``rampUp(now:)`` starts the limit at `rampStart` calls a second and doubles it
///   each second up to the limit before the outage (or `maxRate`; with neither, until `unlimitedAbove`, where the
///   limit goes), so a recovered provider is not met by every waiting call at once.
public struct RateLimiter: Sendable {
    /// The configured ceiling in calls a second; nil: none.
    public let maxRate: Double?
    /// The limit now in calls a second; nil: none.
    public private(set) var limit: Double?
    private var tokens: Double
    private var refilled: ContinuousClock.Instant
    private var blockedUntil: ContinuousClock.Instant?
    private var windowStart: ContinuousClock.Instant
    private var windowAnswered = 0
    private var windowThrottled = 0
    /// Calls a second made over the last closed window (answered or throttled), nil before one closed.
    private var lastWindowCallRate: Double?
    /// Calls a second the provider answered over the last closed window, nil before one closed.
    private var lastWindowRate: Double?
    private var lastChange: ContinuousClock.Instant
    private var lastDecrease: ContinuousClock.Instant?
    /// While ramping up after a breaker closed: the limit up to which it doubles each second (infinity: no ceiling).
    private var rampCeiling: Double?

    /// How often the limit may fall.
    static let decreaseInterval = Duration.milliseconds(500)
    /// How often the limit rises while the provider does not throttle.
    static let increaseInterval = Duration.seconds(1)
    /// The limit after a breaker closes.
    static let rampStart = 10.0
    /// The lowest limit.
    static let minimumLimit = 1.0
    /// With no maximum, a ramp that reaches this many calls a second ends in no limit at all.
    static let unlimitedAbove = 5_000.0

    /// A limiter at `maxRate` calls a second (nil: unlimited), starting at `now`.
    public init(maxRate: Double?, now: ContinuousClock.Instant) {
        self.maxRate = maxRate.map { max($0, Self.minimumLimit) }
        limit = self.maxRate
        tokens = Self.capacity(self.maxRate)
        refilled = now
        windowStart = now
        lastChange = now
    }

    /// Takes a call's token at `now`; returns how long the call must wait first (zero: it goes now).
    public mutating func reserve(now: ContinuousClock.Instant) -> Duration {
        raiseIfDue(now: now)
        var start = now
        if let blockedUntil, blockedUntil > now { start = blockedUntil }
        guard let limit else { return start - now }
        refill(at: start)
        tokens -= 1
        guard tokens < 0 else { return start - now }
        return (start - now) + Self.duration(seconds: -tokens / limit)
    }

    /// The provider answered a call at `now` (it was not throttled).
    public mutating func answered(now: ContinuousClock.Instant) {
        roll(now: now)
        windowAnswered += 1
    }

    /// The provider throttled a call at `now`, asking to wait `retryAfter` if it said so.
    public mutating func throttled(now: ContinuousClock.Instant, retryAfter: Duration?) {
        if let retryAfter, retryAfter > .zero {
            let until = now + retryAfter
            blockedUntil = max(blockedUntil ?? until, until)
        }
        roll(now: now)
        windowThrottled += 1
        guard windowThrottled >= 2, Double(windowThrottled) >= 0.05 * Double(windowThrottled + windowAnswered) else { return }
        if let lastDecrease, now - lastDecrease < Self.decreaseInterval { return }
        lastDecrease = now
        let accepted = acceptedRate(now: now)
        let current = limit ?? max(accepted, callRate(now: now), Self.minimumLimit)
        // Never below half at once: the rate accepted lately may be low because calls were held (a Retry-After).
        let lowered = max(current / 2, min(current, accepted * 0.9))
        rampCeiling = nil
        set(limit: max(Self.minimumLimit, lowered), now: now)
    }

    /// A breaker closed at `now`: start from a low limit and rise from there.
    public mutating func rampUp(now: ContinuousClock.Instant) {
        rampCeiling = limit ?? maxRate ?? .infinity
        set(limit: min(maxRate ?? Self.rampStart, Self.rampStart), now: now)
        tokens = 1
    }

    /// The limit as `risk_provider_rate_limit` shows it: calls a second, 0 when unlimited.
    public var gauge: Double { limit ?? 0 }

    // MARK: - Parts

    private mutating func set(limit newLimit: Double, now: ContinuousClock.Instant) {
        refill(at: now)
        limit = newLimit
        tokens = min(tokens, Self.capacity(newLimit))
        lastChange = now
    }

    private mutating func raiseIfDue(now: ContinuousClock.Instant) {
        guard let current = limit, now - lastChange >= Self.increaseInterval else { return }
        if let maxRate, current >= maxRate { return }
        let steps = Int(min(Double((now - lastChange) / Self.increaseInterval).rounded(.down), 100))
        var raised = current
        for _ in 0..<steps {
            if let ceiling = rampCeiling, raised < ceiling {
                raised = min(raised * 2, ceiling)
            } else {
                rampCeiling = nil
                raised += max(Self.minimumLimit, raised * 0.05)
            }
        }
        if maxRate == nil, rampCeiling == .infinity, raised >= Self.unlimitedAbove {
            rampCeiling = nil
            refill(at: now)
            limit = nil
            lastChange = now
            return
        }
        set(limit: min(maxRate ?? raised, raised), now: now)
    }

    private mutating func refill(at now: ContinuousClock.Instant) {
        guard now > refilled else { return }
        if let limit {
            tokens = min(Self.capacity(limit), tokens + Self.seconds(now - refilled) * limit)
        }
        refilled = now
    }

    /// Closes the one-second windows of answered calls that `now` has passed.
    private mutating func roll(now: ContinuousClock.Instant) {
        let elapsed = now - windowStart
        guard elapsed >= .seconds(1) else { return }
        lastWindowRate = Double(windowAnswered) / Self.seconds(elapsed)
        lastWindowCallRate = Double(windowAnswered + windowThrottled) / Self.seconds(elapsed)
        windowAnswered = 0
        windowThrottled = 0
        windowStart = now
    }

    /// Calls a second the provider accepted lately: the last whole second, else the current part of one (over at
    /// least a second: providers count their allowance per second, and may accept a second's worth at once).
    private func acceptedRate(now: ContinuousClock.Instant) -> Double {
        if let lastWindowRate { return lastWindowRate }
        return Double(windowAnswered) / max(1, Self.seconds(now - windowStart))
    }

    /// Calls a second made lately, answered or throttled: the limit in effect when there was none.
    private func callRate(now: ContinuousClock.Instant) -> Double {
        let current = Double(windowAnswered + windowThrottled) / max(1, Self.seconds(now - windowStart))
        return max(current, lastWindowCallRate ?? 0)
    }

    /// The bucket's size: a tenth of a second of calls, at least one.
    private static func capacity(_ limit: Double?) -> Double {
        max(1, (limit ?? 0) / 10)
    }

    private static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }

    private static func duration(seconds: Double) -> Duration {
        .microseconds(Int64((max(seconds, 0) * 1_000_000).rounded(.up)))
    }
}
