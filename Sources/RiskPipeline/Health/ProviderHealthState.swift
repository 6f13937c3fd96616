import RiskPolicy

/// Whether the providers can be called, as a value: today the account-level pause. While a provider refuses the
/// account (no credit, suspended, bad credentials), events wait instead of failing, one of them — the prober —
/// tries again after a backoff delay, and the first success ends the pause.
struct ProviderHealthState: Sendable {
    /// What work that met an account-level failure does next.
    enum Turn: Sendable, Equatable {
        /// It is the prober: try again after this delay.
        case probe(after: Duration)
        /// Another work probes: wait until the pause ends.
        case wait
    }

    /// Why the providers are paused, nil while they are not.
    private(set) var reason: ProviderHealth.Reason?
    private var prober: UInt64?
    private var backoff: RetrySchedule.Backoff

    /// A healthy state whose probes follow `probes`.
    init(probes: RetrySchedule) {
        backoff = probes.start()
    }

    /// Whether the providers are paused.
    var isPaused: Bool { reason != nil }

    /// Work `id` met an account-level failure: the pause starts (if it had not) and `id` probes or waits; `started`
    /// tells whether this failure started the pause.
    mutating func failed(_ reason: ProviderHealth.Reason, by id: UInt64) -> (turn: Turn, started: Bool) {
        var started = false
        if self.reason == nil {
            self.reason = reason
            backoff.reset()
            started = true
        }
        if let prober, prober != id { return (.wait, started) }
        prober = id
        return (.probe(after: backoff.nextDelay() ?? backoff.schedule.cap), started)
    }

    /// The prober is gone (its task was cancelled): the next work to fail probes instead.
    mutating func proberGone() {
        prober = nil
    }

    /// A provider call got through: the pause, if any, ends; returns whether one ended.
    mutating func succeeded() -> Bool {
        guard reason != nil else { return false }
        reason = nil
        prober = nil
        backoff.reset()
        return true
    }
}
