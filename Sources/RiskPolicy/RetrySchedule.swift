/// Exponential backoff with jitter for retried provider calls, and (with no attempt limit) for the probes of an
/// account-level pause; computes delays only, so the caller sleeps on its own injected clock.
///
/// After failed attempt `n` (1-based) the uncapped delay is `base · 2^(n-1)`, capped at `cap`, then jittered:
/// `full` draws uniformly from `[0, d]`, `equal` from `[d/2, d]`, `decorrelated` from `[base, 3 · previous]` (capped;
/// AWS's "decorrelated jitter"), `none` uses `d`. A provider's Retry-After raises the delay to at least that value,
/// itself capped at `retryAfterCap`. With `maxAttempts` (total attempts, the first included) the schedule gives up
/// when that many attempts have failed. Randomness comes from the generator passed in, so tests are deterministic.
/// Out-of-range settings are clamped: `base` at least 1 ms, `cap` at least `base`, `maxAttempts` at least 1.
public struct RetrySchedule: Sendable, Hashable {
    /// How a delay is randomised.
    public enum Jitter: String, Sendable, Hashable, CaseIterable {
        /// No randomness: exactly the exponential delay.
        case none
        /// Uniform between zero and the exponential delay.
        case full
        /// Half the exponential delay plus uniform up to the other half.
        case equal
        /// Uniform between `base` and three times the previous delay, capped.
        case decorrelated
    }

    /// The first delay before jitter (default 200 ms).
    public let base: Duration
    /// The longest computed delay (default 10 s).
    public let cap: Duration
    /// The total number of attempts, the first included (default 5); nil: never give up (probes).
    public let maxAttempts: Int?
    /// The longest wait a Retry-After may impose (default 60 s).
    public let retryAfterCap: Duration
    /// The jitter (default full).
    public let jitter: Jitter

    /// A schedule; out-of-range values are clamped (see the type's documentation).
    public init(
        base: Duration = .milliseconds(200),
        cap: Duration = .seconds(10),
        maxAttempts: Int? = 5,
        retryAfterCap: Duration = .seconds(60),
        jitter: Jitter = .full
    ) {
        let base = max(base, .milliseconds(1))
        self.base = base
        self.cap = max(cap, base)
        self.maxAttempts = maxAttempts.map { max($0, 1) }
        self.retryAfterCap = max(retryAfterCap, .zero)
        self.jitter = jitter
    }

    /// The default for provider calls: 200 ms base, 10 s cap, 5 attempts, Retry-After up to 60 s, full jitter.
    public static let providerCalls = RetrySchedule()

    /// The default probe schedule of an account-level pause: 1 s to 60 s, equal jitter (never zero), no limit.
    public static let pauseProbes = RetrySchedule(base: .seconds(1), cap: .seconds(60), maxAttempts: nil, retryAfterCap: .seconds(60), jitter: .equal)

    /// A fresh backoff state for one operation (or one pause).
    public func start() -> Backoff { Backoff(schedule: self) }

    /// The capped exponential delay after failed attempt `attempt` (1-based), before jitter.
    public func exponentialDelay(afterAttempt attempt: Int) -> Duration {
        let exponent = Double(min(max(attempt, 1) - 1, 62))
        let seconds = min(Self.seconds(base) * Double.pow2(exponent), Self.seconds(cap))
        return Self.duration(seconds)
    }

    /// The backoff state of one operation: counts failed attempts and gives the delay before the next one.
    public struct Backoff: Sendable, Hashable {
        /// The schedule followed.
        public let schedule: RetrySchedule
        /// How many attempts have failed so far (the `risk.attempts` value once the schedule gives up).
        public private(set) var failedAttempts = 0
        private var previous: Duration

        init(schedule: RetrySchedule) {
            self.schedule = schedule
            previous = schedule.base
        }

        /// Records a failed attempt and returns the delay before the next one, or nil when no attempt is left;
        /// `retryAfter` (the provider's Retry-After) raises the delay to at least itself, capped at `retryAfterCap`.
        public mutating func nextDelay(retryAfter: Duration? = nil, using generator: inout some RandomNumberGenerator) -> Duration? {
            failedAttempts += 1
            if let maxAttempts = schedule.maxAttempts, failedAttempts >= maxAttempts { return nil }
            let capSeconds = RetrySchedule.seconds(schedule.cap)
            let jittered: Double
            switch schedule.jitter {
            case .none:
                jittered = RetrySchedule.seconds(schedule.exponentialDelay(afterAttempt: failedAttempts))
            case .full:
                let ceiling = RetrySchedule.seconds(schedule.exponentialDelay(afterAttempt: failedAttempts))
                jittered = Double.random(in: 0...ceiling, using: &generator)
            case .equal:
                let ceiling = RetrySchedule.seconds(schedule.exponentialDelay(afterAttempt: failedAttempts))
                jittered = ceiling / 2 + Double.random(in: 0...(ceiling / 2), using: &generator)
            case .decorrelated:
                let low = RetrySchedule.seconds(schedule.base)
                let high = max(low, min(RetrySchedule.seconds(previous) * 3, capSeconds))
                jittered = min(Double.random(in: low...high, using: &generator), capSeconds)
            }
            let delay = RetrySchedule.duration(min(jittered, capSeconds))
            previous = delay
            guard let retryAfter else { return delay }
            return max(delay, min(max(retryAfter, .zero), schedule.retryAfterCap))
        }

        /// Like ``nextDelay(retryAfter:using:)`` with the system's random number generator.
        public mutating func nextDelay(retryAfter: Duration? = nil) -> Duration? {
            var generator = SystemRandomNumberGenerator()
            return nextDelay(retryAfter: retryAfter, using: &generator)
        }

        /// Starts over, as after a success (a recovered provider ends a pause's probing).
        public mutating func reset() {
            failedAttempts = 0
            previous = schedule.base
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }

    /// A duration from seconds, rounded to whole microseconds.
    static func duration(_ seconds: Double) -> Duration {
        .microseconds(Int64((max(seconds, 0) * 1_000_000).rounded()))
    }
}

extension Double {
    /// 2 to the power `exponent` (a whole number between 0 and 62).
    fileprivate static func pow2(_ exponent: Double) -> Double {
        Double(sign: .plus, exponent: Int(exponent), significand: 1)
    }
}
