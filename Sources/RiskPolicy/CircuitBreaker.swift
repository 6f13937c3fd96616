/// One provider's circuit breaker, as a value: closed while the provider answers; open after provider failures
/// (transport errors, timeouts, 5xx, throttling) of `failureThreshold` distinct events in a row, with no answer
/// between them; then, after a probe delay growing by `probes` (0.5 s to 30 s by default), half-open: one call —
/// the probe — goes through while every other waits; its success closes the breaker, its failure opens it again.
///
/// Distinct events count once however often each retries, so one event whose number keeps failing while the
/// provider serves others never opens it: it is retried and dead-lettered as before.
public struct CircuitBreaker: Sendable {
    /// The three states (`risk_provider_state`: 0, 1, 2).
    public enum State: Sendable, Equatable {
        /// Calls go through.
        case closed
        /// One probe goes through, or is on its way.
        case halfOpen
        /// No call goes through before `until`.
        case open(until: ContinuousClock.Instant)

        /// The value of `risk_provider_state`.
        public var gauge: Int {
            switch self {
            case .closed: 0
            case .halfOpen: 1
            case .open: 2
            }
        }
    }

    /// Whether a call may go now.
    public enum Admission: Sendable, Equatable {
        /// Call.
        case call
        /// Call: this is the probe of a half-open breaker; report its outcome.
        case probe
        /// Wait until this instant, then ask again.
        case waitUntil(ContinuousClock.Instant)
        /// Wait until the probe on its way has an outcome, then ask again.
        case waitForProbe
    }

    /// Provider failures of distinct events in a row that open the breaker.
    public let failureThreshold: Int
    /// The state now.
    public private(set) var state = State.closed
    private var streak: Set<UInt64> = []
    private var probeOnItsWay = false
    private var backoff: RetrySchedule.Backoff

    /// A closed breaker opening after `failureThreshold` distinct events' failures, probing by `probes`.
    public init(failureThreshold: Int = 5, probes: RetrySchedule = RetryTable.standard.breakerProbes) {
        self.failureThreshold = max(1, failureThreshold)
        backoff = probes.start()
    }

    /// Whether a call may go at `now`; an open breaker whose delay has passed turns half-open, and the caller probes.
    public mutating func admit(now: ContinuousClock.Instant) -> Admission {
        switch state {
        case .closed:
            return .call
        case .open(let until):
            guard now >= until else { return .waitUntil(until) }
            state = .halfOpen
            probeOnItsWay = true
            return .probe
        case .halfOpen:
            if probeOnItsWay { return .waitForProbe }
            probeOnItsWay = true
            return .probe
        }
    }

    /// The provider answered (a success, or a failure that is the event's, not the provider's); returns the previous
    /// state when this closed the breaker.
    public mutating func answered() -> State? {
        streak.removeAll()
        guard state != .closed else { return nil }
        let previous = state
        state = .closed
        probeOnItsWay = false
        backoff.reset()
        return previous
    }

    /// A provider failure of event `id` at `now`; returns the previous state when this opened the breaker (from
    /// closed, or from half-open when the probe failed).
    public mutating func failed(event id: UInt64, now: ContinuousClock.Instant, generator: inout some RandomNumberGenerator) -> State? {
        switch state {
        case .open:
            return nil
        case .halfOpen:
            return open(now: now, generator: &generator)
        case .closed:
            streak.insert(id)
            return streak.count >= failureThreshold ? open(now: now, generator: &generator) : nil
        }
    }

    /// The probe on its way ended without an outcome (its task was cancelled): the next caller probes.
    public mutating func probeAbandoned() {
        probeOnItsWay = false
    }

    private mutating func open(now: ContinuousClock.Instant, generator: inout some RandomNumberGenerator) -> State {
        let previous = state
        let delay = backoff.nextDelay(using: &generator) ?? backoff.schedule.cap
        state = .open(until: now + delay)
        probeOnItsWay = false
        streak.removeAll()
        return previous
    }
}
