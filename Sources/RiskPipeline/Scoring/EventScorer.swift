import Foundation
import IdempotencyStore
import RiskEvents
import RiskPolicy
import ScoringAPI

/// Scores one event: results already stored for its externalId first, then the providers for what is missing.
///
/// Both providers are called concurrently. Each success is saved in the idempotency store as soon as it
/// arrives, so a retry, a duplicate or a replay never pays again for a call that already succeeded.
/// Failures follow the error policy: retry with backoff, dead-letter, or pause (account-level).
public struct EventScorer: Sendable {
    /// What scoring one event came to.
    public enum Outcome: Sendable {
        /// Both providers answered (now or earlier); the raw JSON of each, whether phone risk was partial, whether
        /// both JSON objects come from answers parsed in this call (true) rather than from the store, and when the
        /// number-scoring record was fetched if it came from the number-scoring cache.
        case scored(phoneRisk: [UInt8], numberScoring: [UInt8], partial: Bool, verified: Bool, numberScoringFetchedAt: Date?)
        /// The externalId's scored event was committed before: produce nothing.
        case alreadyEmitted
        /// A provider failed for good: the event becomes a dead letter.
        case deadLetter(DeadLetter)
        /// A provider said the account cannot be served until someone acts: pause, do not dead-letter.
        case accountLevel(source: FailureSource, code: String, message: String)
    }

    /// The two provider calls; in production the ScoringAPI clients, in tests anything that behaves like them.
    public struct Providers: Sendable {
        /// Scores a number's risk for an event.
        public var phoneRisk: @Sendable (PhoneRiskRequest) async throws -> PhoneRiskResult
        /// Looks up one number's scoring record: through the batcher, or (`alone`) in a request of its own, after a
        /// batch it was in failed as a whole.
        public var numberScoring: @Sendable (PhoneNumber, _ alone: Bool) async throws -> NumberScoringRecord

        /// Providers from two closures.
        public init(
            phoneRisk: @escaping @Sendable (PhoneRiskRequest) async throws -> PhoneRiskResult,
            numberScoring: @escaping @Sendable (PhoneNumber, _ alone: Bool) async throws -> NumberScoringRecord
        ) {
            self.phoneRisk = phoneRisk
            self.numberScoring = numberScoring
        }

        /// The real clients: phone risk directly, number scoring through a batcher.
        public static func clients<C: Clock>(phoneRisk: PhoneRiskClient, numberScoring: NumberScoringBatcher<C>) -> Providers
        where C.Duration == Duration {
            Providers(
                phoneRisk: { request in try await phoneRisk.score(request) },
                numberScoring: { number, alone in
                    alone ? try await numberScoring.lookupAlone(number) : try await numberScoring.lookup(number)
                }
            )
        }

        /// The same providers, each call's duration recorded in `metrics`.
        public func measured(by metrics: WorkerMetrics) -> Providers {
            let phoneRisk = self.phoneRisk
            let numberScoring = self.numberScoring
            return Providers(
                phoneRisk: { request in
                    let start = ContinuousClock.now
                    defer { metrics.providerRequest(.phoneRisk, duration: .now - start) }
                    return try await phoneRisk(request)
                },
                numberScoring: { number, alone in
                    let start = ContinuousClock.now
                    defer { metrics.providerRequest(.numberScoring, duration: .now - start) }
                    return try await numberScoring(number, alone)
                }
            )
        }
    }

    /// One provider's result: raw JSON (from an answer parsed now, or from the store), or why there is none.
    private enum Call: Sendable {
        case done([UInt8], partial: Bool, fresh: Bool, fetchedAt: Date? = nil)
        case failed(FailureSource, code: String, message: String, attempts: Int, action: ErrorPolicy.Action)
    }

    private let providers: Providers
    private let store: any IdempotencyStore
    private let emitted: EmittedIDs
    private let health: ProviderHealth
    private let cache: NumberScoringCache?
    private let maxElapsed: Duration
    private let policy: ErrorPolicy
    private let retry: RetrySchedule
    private let sleep: @Sendable (Duration) async throws -> Void
    private let now: @Sendable () -> Date
    private let retried: @Sendable (FailureSource) -> Void

    /// A scorer over `providers` and `store`, asking `emitted` before paying and `health` before each call, reusing
    /// number-scoring records cached for `numberScoringCacheTTL` (zero: never), retrying by `retry` for at most
    /// `maxElapsed` of an event's time (waits for an open breaker not counted), sleeping with `sleep`.
    public init(
        providers: Providers,
        store: any IdempotencyStore,
        emitted: EmittedIDs,
        health: ProviderHealth,
        numberScoringCacheTTL: Duration = .zero,
        metrics: WorkerMetrics = WorkerMetrics(),
        policy: ErrorPolicy = .standard,
        retry: RetrySchedule = .providerCalls,
        maxElapsed: Duration = RetryTable.standard.providerCallsMaxElapsed,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        now: @escaping @Sendable () -> Date = Date.init,
        retried: @escaping @Sendable (FailureSource) -> Void = { _ in }
    ) {
        self.retried = retried
        self.providers = providers
        self.store = store
        self.emitted = emitted
        self.health = health
        self.cache = numberScoringCacheTTL > .zero
            ? NumberScoringCache(store: store, ttl: numberScoringCacheTTL, metrics: metrics, now: now) : nil
        self.maxElapsed = maxElapsed
        self.policy = policy
        self.retry = retry
        self.sleep = sleep
        self.now = now
    }

    /// Scores `event` with what the store holds for it; throws only when the idempotency store fails (the caller
    /// retries the event later).
    public func score(_ event: LifecycleEvent) async throws -> Outcome {
        try await score(event, stored: try await store.lookup(externalId: event.externalId))
    }

    /// Scores `event` given its entry as just read (or claimed); throws only when the idempotency store fails.
    public func score(_ event: LifecycleEvent, stored: StoredScoring?) async throws -> Outcome {
        if emitted.contains(event.externalId, storedAsEmitted: stored?.emitted == true) { return .alreadyEmitted }
        let request = PhoneRiskRequest(
            phoneNumber: event.phoneNumber,
            accountLifecycleEvent: event.accountLifecycleEvent,
            externalId: event.externalId,
            originatingIp: event.originatingIp,
            deviceId: event.deviceId,
            accountId: event.accountId,
            emailAddress: event.emailAddress
        )
        async let phoneRisk: Call = {
            if let json = stored?.phoneRisk { return .done(json, partial: stored?.partial ?? false, fresh: false) }
            return try await call(.phoneRisk, event: event) { _ in
                let result = try await providers.phoneRisk(request)
                let json = result.dataJSON
                try await store.savePhoneRisk(externalId: event.externalId, json: json, partial: result.isPartial)
                return (json, result.isPartial)
            }
        }()
        async let numberScoring: Call = {
            if let json = stored?.numberScoring {
                return .done(json, partial: false, fresh: false, fetchedAt: stored?.numberScoringFetchedAt)
            }
            guard let cache else { return try await callNumberScoring(event, keepIn: nil) }
            let msisdn = event.phoneNumber.msisdn
            if let cached = try await cache.begin(msisdn) {
                try await store.saveNumberScoring(externalId: event.externalId, json: cached.record, fetchedAt: cached.fetchedAt)
                return .done(cached.record, partial: false, fresh: false, fetchedAt: cached.fetchedAt)
            }
            do {
                let call = try await callNumberScoring(event, keepIn: cache)
                if case .failed = call { await cache.finish(msisdn, with: nil) }
                return call
            } catch {
                await cache.finish(msisdn, with: nil)
                throw error
            }
        }()
        let (risk, scoring) = try await (phoneRisk, numberScoring)
        switch (risk, scoring) {
        case (.done(let riskJSON, let partial, let riskFresh, _), .done(let scoringJSON, _, let scoringFresh, let fetchedAt)):
            return .scored(
                phoneRisk: riskJSON, numberScoring: scoringJSON, partial: partial, verified: riskFresh && scoringFresh,
                numberScoringFetchedAt: fetchedAt)
        default:
            // Account-level first (nobody should act on the event meanwhile), then phone risk before number scoring.
            let failures = [risk, scoring].compactMap { call -> (FailureSource, String, String, Int, ErrorPolicy.Action)? in
                if case .failed(let source, let code, let message, let attempts, let action) = call {
                    return (source, code, message, attempts, action)
                }
                return nil
            }
            if let pause = failures.first(where: { $0.4 == .pause }) {
                return .accountLevel(source: pause.0, code: pause.1, message: pause.2)
            }
            guard let failure = failures.first else { throw ScorerError.noOutcome }
            return .deadLetter(DeadLetter(source: failure.0, code: failure.1, message: failure.2, attempts: failure.3, failedAt: now()))
        }
    }

    /// Calls number scoring for `event` and saves the record in its entry and, with a cache, for later events.
    private func callNumberScoring(_ event: LifecycleEvent, keepIn cache: NumberScoringCache?) async throws -> Call {
        try await call(.numberScoring, event: event) { alone in
            let record = try await providers.numberScoring(event.phoneNumber, alone)
            let json = record.json
            try await store.saveNumberScoring(externalId: event.externalId, json: json)
            try await cache?.keep(CachedNumberScoring(msisdn: event.phoneNumber.msisdn, record: json, fetchedAt: now()))
            return (json, false)
        }
    }

    /// Runs one provider call with retries by policy; store failures are thrown, provider failures returned.
    ///
    /// Each attempt waits for the provider's breaker and rate limit first. A provider failure while the breaker is
    /// (or was) open, and a throttled call, cost the event no attempt (a throttled one waits by its own backoff); so does
    /// a number-scoring batch failing as a whole, after which the number is asked alone; every retry counts against
    /// `maxElapsed`, except the time spent waiting for an open breaker.
    private func call(_ source: FailureSource, event: LifecycleEvent, _ body: (_ alone: Bool) async throws -> ([UInt8], Bool)) async throws -> Call {
        let identity = UInt64(bitPattern: Int64(event.externalId.hashValue))
        var backoff = retry.start()
        var throttleBackoff = RetrySchedule(base: retry.base, cap: retry.cap, maxAttempts: nil, retryAfterCap: retry.retryAfterCap, jitter: retry.jitter).start()
        var calls = 0
        var breakerWaits = Duration.zero
        var alone = false
        let started = ContinuousClock.now
        while true {
            let admission = try await health.admit(source, event: identity)
            breakerWaits += admission.waitedForBreaker
            calls += 1
            let error: ScoringError
            do {
                let (json, partial) = try await body(alone)
                await health.report(source, event: identity, admission: admission, outcome: .answered)
                return .done(json, partial: partial, fresh: true)
            } catch let scoringError as ScoringError {
                error = scoringError
            } catch {
                await health.report(source, event: identity, admission: admission, outcome: .abandoned)
                throw error
            }
            let action = policy.action(source: source, code: error.code)
            guard action == .retry else {
                // The provider answered: the failure is the event's, or the account's.
                await health.report(source, event: identity, admission: admission, outcome: .answered)
                return .failed(source, code: error.code, message: error.message, attempts: calls, action: action)
            }
            let throttled = ThrottleSignal.matches(source: source, code: error.code)
            // A number-scoring batch that failed as a whole is one failure of the provider, however many events it held.
            let failedRequest = error.batch.map { $0 | (1 << 63) } ?? identity
            // The breaker counts failures of the request itself (connection, deadline, HTTP 5xx); an answer carrying a
            // retriable code (number-scoring 7, phone-risk 599) shows the provider up: retried, as this event's trouble.
            let outcome: ProviderHealth.Outcome
            if throttled {
                outcome = .throttled(retryAfter: error.retryAfter)
            } else {
                switch error.kind {
                case .transport, .timeout, .http: outcome = .failed
                default: outcome = .answered
                }
            }
            let forgiven = await health.report(
                source, event: failedRequest, admission: admission, outcome: outcome, failure: "\(error.code): \(error.message)")
            let spent = ContinuousClock.now - started - breakerWaits
            if spent < maxElapsed, error.batch != nil, !throttled, !alone {
                // A batch of several numbers failed as a whole: not this number's fault yet. Ask again alone, so that
                // one number that breaks its batch is charged, and its neighbours are not.
                alone = true
                retried(source)
                continue
            }
            if spent < maxElapsed {
                if throttled {
                    // No attempt spent: wait by the event's own backoff (and Retry-After), then for the rate limit.
                        retried(source)
                    try await sleep(throttleBackoff.nextDelay(retryAfter: error.retryAfter) ?? retry.cap)
                    continue
                }
                if forgiven {
                    // The breaker is or was open: try again once it lets the call go, no attempt spent.
                        retried(source)
                    continue
                }
                if let delay = backoff.nextDelay(retryAfter: error.retryAfter) {
                    retried(source)
                    try await sleep(delay)
                    continue
                }
            }
            // The dead letter's `risk.attempts` counts every call made, those that cost no attempt included.
            return .failed(source, code: error.code, message: error.message, attempts: calls, action: .deadLetter)
        }
    }
}

/// A scorer failure that is not the provider's: the caller retries the event later.
enum ScorerError: Error, Sendable {
    /// Neither provider produced a result nor a failure (cannot happen; kept so no path traps).
    case noOutcome
}
