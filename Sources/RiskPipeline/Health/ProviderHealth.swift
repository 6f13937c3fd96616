import Logging
import RiskEvents
import RiskPolicy
import Synchronization

/// Whether the providers can be called: the one owner of provider health — each provider's circuit breaker and
/// rate limiter, and the account-level pause. Work asks it before each call (``admit(_:event:)``) and reports each
/// outcome (``report(_:event:admission:outcome:)``); the coordinator (``pauses()``), `/health/ready`
/// (``unavailability``) and the metrics (`risk_paused`, `risk_provider_state`, `risk_provider_rate_limit`,
/// `risk_provider_throttled_total`) observe it; each transition is logged once.
public actor ProviderHealth {
    /// Why the providers are paused for the account.
    public struct Reason: Sendable, Equatable, CustomStringConvertible {
        /// The provider that refused.
        public var source: FailureSource
        /// Its code (such as `3` or `http-403`).
        public var code: String
        /// Its message.
        public var message: String

        /// `<source> <code>: <message>`.
        public var description: String { "\(source.rawValue) \(code): \(message)" }
    }

    /// How the breakers and rate limiters behave.
    public struct FlowSettings: Sendable, Hashable {
        /// Provider failures of distinct events in a row that open a provider's breaker (`BREAKER_FAILURES`).
        public var breakerFailures: Int
        /// The delays between probes of an open breaker.
        public var breakerProbes: RetrySchedule
        /// The most phone-risk requests a second (`PHONE_RISK_MAX_RPS`); nil: no limit.
        public var phoneRiskMaxRate: Double?
        /// The most numbers looked up a second (`NUMBER_SCORING_MAX_RPS`); nil: no limit.
        public var numberScoringMaxRate: Double?

        /// Settings; every one defaults as documented in README.
        public init(
            breakerFailures: Int = 5,
            breakerProbes: RetrySchedule = RetryTable.standard.breakerProbes,
            phoneRiskMaxRate: Double? = nil,
            numberScoringMaxRate: Double? = nil
        ) {
            self.breakerFailures = breakerFailures
            self.breakerProbes = breakerProbes
            self.phoneRiskMaxRate = phoneRiskMaxRate
            self.numberScoringMaxRate = numberScoringMaxRate
        }
    }

    /// What a provider call came to, for its breaker and rate limiter.
    public enum Outcome: Sendable, Equatable {
        /// The provider answered: a success, or a failure of the event or of the account.
        case answered
        /// A provider failure (transport, timeout, 5xx, 599, number-scoring 7).
        case failed
        /// The provider throttled the call (429, number-scoring 4, phone-risk 10019), asking to wait `retryAfter`.
        case throttled(retryAfter: Duration?)
        /// The call was given up (its task was cancelled) before it had an outcome.
        case abandoned
    }

    /// A call allowed to go.
    public struct Admission: Sendable, Equatable {
        /// Whether it is the probe of a half-open breaker.
        public var isProbe: Bool
        /// How long it waited for an open breaker (not part of the event's retry time).
        public var waitedForBreaker: Duration
    }

    /// One provider's flow state.
    private struct Flow {
        var breaker: CircuitBreaker
        var limiter: RateLimiter
        /// The last provider failure, for `/health/ready` while the breaker is not closed.
        var lastFailure: String?
        /// The rate limit last published (`risk_provider_rate_limit`), so that the gauge is set only when it changes.
        var publishedLimit: Double
    }

    /// What `/health/ready` reads without waiting for the actor.
    private struct Snapshot {
        var account: Reason?
        var breakers: [FailureSource: String] = [:]
    }

    private var state: ProviderHealthState
    private var flows: [FailureSource: Flow]
    /// Work waiting for the account pause to end.
    private var waiters = WaitingContinuations<Void>()
    /// Work waiting for a provider's probe to have an outcome.
    private var probeWaiters: [FailureSource: WaitingContinuations<Void>] = [:]
    private var observers: [UInt64: AsyncStream<Bool>.Continuation] = [:]
    private var nextObserver: UInt64 = 0
    private var pausedForFetching = false
    private var random = SystemRandomNumberGenerator()
    private nonisolated let current = Mutex(Snapshot())
    private let sleep: @Sendable (Duration) async throws -> Void
    private let metrics: WorkerMetrics
    private let logger: Logger

    /// Healthy providers: account pauses probing by `probes`, breakers and rate limits by `flow`, sleeping with `sleep`.
    public init(
        probes: RetrySchedule = RetryTable.standard.pauseProbes,
        flow: FlowSettings = FlowSettings(),
        metrics: WorkerMetrics,
        logger: Logger,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.state = ProviderHealthState(probes: probes)
        let now = ContinuousClock.now
        func flowState(_ maxRate: Double?) -> Flow {
            let limiter = RateLimiter(maxRate: maxRate, now: now)
            return Flow(
                breaker: CircuitBreaker(failureThreshold: flow.breakerFailures, probes: flow.breakerProbes), limiter: limiter,
                publishedLimit: limiter.gauge)
        }
        self.flows = [.phoneRisk: flowState(flow.phoneRiskMaxRate), .numberScoring: flowState(flow.numberScoringMaxRate)]
        self.metrics = metrics
        self.logger = logger
        self.sleep = sleep
        for (source, flow) in flows {
            metrics.providerState(source, flow.breaker.state.gauge)
            metrics.providerRateLimit(source, flow.limiter.gauge)
        }
    }

    /// Why the providers are paused for the account, nil while they are not (readable from any thread).
    public nonisolated var pauseReason: Reason? { current.withLock { $0.account } }

    /// Why events cannot be scored now — an account-level pause, or a provider's open breaker — nil while they can
    /// (readable from any thread, for `/health/ready`).
    public nonisolated var unavailability: String? {
        current.withLock { snapshot in
            if let account = snapshot.account { return "paused: \(account)" }
            let open = snapshot.breakers.sorted { $0.key.rawValue < $1.key.rawValue }.map(\.value)
            return open.isEmpty ? nil : open.joined(separator: "; ")
        }
    }
    /// Whether fetching should pause now (an account pause, or a breaker not closed), then each change, for as long as
    /// the caller iterates.
    public func pauses() -> AsyncStream<Bool> {
        let (stream, continuation) = AsyncStream.makeStream(of: Bool.self, bufferingPolicy: .bufferingNewest(1))
        nextObserver += 1
        let id = nextObserver
        observers[id] = continuation
        continuation.yield(pausedForFetching)
        continuation.onTermination = { _ in Task { await self.removeObserver(id) } }
        return stream
    }

    /// Returns at once when not paused, else when the pause ends; throws when the task is cancelled.
    public func waitUntilOpen() async throws {
        guard state.isPaused else { return }
        try await waitForEnd()
    }

    /// Work `id` met an account-level failure; returns when it should try again: after a backoff delay for the one
    /// prober (the first to fail, or `id` again), else once the pause has ended.
    public func failed(_ source: FailureSource, code: String, message: String, by id: UInt64) async throws {
        let (turn, started) = state.failed(Reason(source: source, code: code, message: message), by: id)
        if started { changed() }
        switch turn {
        case .wait:
            try await waitForEnd()
        case .probe(let delay):
            do {
                try await sleep(delay)
            } catch {
                // The prober is gone (cancelled): let the waiting work try, so one of them becomes the prober.
                state.proberGone()
                resumeAll()
                throw error
            }
        }
    }

    /// A provider call got through: the pause, if any, ends.
    public func succeeded() {
        guard state.succeeded() else { return }
        resumeAll()
        changed()
    }

    private func changed() {
        let reason = state.reason
        current.withLock { $0.account = reason }
        metrics.paused.record(reason == nil ? 0 : 1)
        if let reason {
            logger.warning("account-level provider error: pausing consumption and probing", metadata: ["reason": "\(reason)"])
        } else {
            logger.info("providers answer again: resuming consumption")
        }
        updateFetching()
    }

    /// Tells the observers when whether fetching should pause changes.
    private func updateFetching() {
        let paused = state.isPaused || flows.values.contains { $0.breaker.state != .closed }
        guard paused != pausedForFetching else { return }
        pausedForFetching = paused
        for observer in observers.values { observer.yield(paused) }
    }

    // MARK: - Breakers and rate limits

    /// Waits until a call to `source` for event `event` may go: while its breaker is open (or its probe is on its
    /// way), then for its rate limit; throws when the task is cancelled.
    public func admit(_ source: FailureSource, event: UInt64) async throws -> Admission {
        var waited = Duration.zero
        while true {
            let now = ContinuousClock.now
            guard var flow = flows[source] else { return Admission(isProbe: false, waitedForBreaker: waited) }
            let admission = flow.breaker.admit(now: now)
            let delay: Duration
            switch admission {
            case .call, .probe:
                delay = flow.limiter.reserve(now: now)
            case .waitUntil, .waitForProbe:
                delay = .zero
            }
            flows[source] = flow
            if admission == .probe { breakerChanged(source) }
            switch admission {
            case .call, .probe:
                if delay > .zero {
                    do {
                        try await sleep(delay)
                    } catch {
                        if admission == .probe { report(source, event: event, admission: Admission(isProbe: true, waitedForBreaker: waited), outcome: .abandoned) }
                        throw error
                    }
                }
                return Admission(isProbe: admission == .probe, waitedForBreaker: waited)
            case .waitUntil(let until):
                try await sleep(until - now)
            case .waitForProbe:
                try await waitForProbe(source)
            }
            waited += ContinuousClock.now - now
        }
    }

    /// Records the outcome of a call `admit` let go (with `failure`, the code and message `/health/ready` shows while
    /// the breaker is not closed); returns whether the event's attempt is not to be counted (the provider throttled
    /// it, or its breaker is or was open: the provider's trouble, not the event's).
    @discardableResult
    public func report(
        _ source: FailureSource, event: UInt64, admission: Admission, outcome: Outcome, failure: String? = nil
    ) -> Bool {
        guard var flow = flows[source] else { return false }
        let now = ContinuousClock.now
        let wasClosed = flow.breaker.state == .closed
        if let failure { flow.lastFailure = failure }
        var changed = false
        var forgiven = false
        switch outcome {
        case .answered:
            flow.limiter.answered(now: now)
            if flow.breaker.answered() != nil {
                flow.limiter.rampUp(now: now)
                flow.lastFailure = nil
                changed = true
            }
        case .failed:
            if flow.breaker.failed(event: event, now: now, generator: &random) != nil { changed = true }
            forgiven = !wasClosed || flow.breaker.state != .closed
        case .throttled(let retryAfter):
            flow.limiter.throttled(now: now, retryAfter: retryAfter)
            metrics.throttled(source)
            forgiven = true
        case .abandoned:
            if admission.isProbe { flow.breaker.probeAbandoned() }
        }
        // A labelled gauge is looked up in the metrics factory each time it is set: only when the limit changed.
        if flow.limiter.gauge != flow.publishedLimit {
            flow.publishedLimit = flow.limiter.gauge
            metrics.providerRateLimit(source, flow.publishedLimit)
        }
        flows[source] = flow
        if changed { breakerChanged(source) }
        if admission.isProbe || changed { resumeProbeWaiters(source) }
        return forgiven
    }

    /// Logs, counts and publishes a breaker's new state.
    private func breakerChanged(_ source: FailureSource) {
        guard let flow = flows[source] else { return }
        let breakerState = flow.breaker.state
        metrics.providerState(source, breakerState.gauge)
        let failure = flow.lastFailure ?? "provider failures"
        switch breakerState {
        case .closed:
            logger.info("provider answers again: circuit closed, ramping traffic up", metadata: ["provider": "\(source.rawValue)"])
            current.withLock { _ = $0.breakers.removeValue(forKey: source) }
        case .open(let until):
            logger.warning(
                "provider failing: circuit open, pausing calls and probing",
                metadata: ["provider": "\(source.rawValue)", "failure": "\(failure)", "probeIn": "\(until - ContinuousClock.now)"])
            current.withLock { $0.breakers[source] = "\(source.rawValue) circuit open after \(failure)" }
        case .halfOpen:
            logger.info("provider circuit half-open: probing", metadata: ["provider": "\(source.rawValue)"])
            current.withLock { $0.breakers[source] = "\(source.rawValue) circuit half-open (probing) after \(failure)" }
        }
        updateFetching()
    }

    private func waitForProbe(_ source: FailureSource) async throws {
        let ticket = probeWaiters[source, default: WaitingContinuations()].newTicket()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { probeWaiters[source, default: WaitingContinuations()].add($0, ticket: ticket) }
        } onCancel: {
            Task { await self.cancelProbeWaiter(ticket, source: source) }
        }
    }

    private func cancelProbeWaiter(_ ticket: UInt64, source: FailureSource) {
        probeWaiters[source]?.cancel(ticket)
    }

    private func resumeProbeWaiters(_ source: FailureSource) {
        probeWaiters[source]?.resumeAll()
    }

    private func removeObserver(_ id: UInt64) {
        observers.removeValue(forKey: id)
    }

    private func waitForEnd() async throws {
        let ticket = waiters.newTicket()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { waiters.add($0, ticket: ticket) }
        } onCancel: {
            Task { await self.cancelWaiter(ticket) }
        }
    }

    private func cancelWaiter(_ ticket: UInt64) {
        waiters.cancel(ticket)
    }

    private func resumeAll() {
        waiters.resumeAll()
    }
}
