import FixtureTestSupport
import Testing
@testable import RiskPolicy

/// The breaker as a state machine, on instants the test chooses.
@Suite struct CircuitBreakerTests {
    static let start = ContinuousClock.now
    static let probes = RetrySchedule(base: .milliseconds(500), cap: .seconds(4), maxAttempts: nil, jitter: .none)

    @Test func opensAfterFailuresOfDistinctEventsInARow() {
        var random = SplitMix64(seed: 1)
        var breaker = CircuitBreaker(failureThreshold: 3, probes: Self.probes)
        #expect(breaker.admit(now: Self.start) == .call)
        #expect(breaker.failed(event: 1, now: Self.start, generator: &random) == nil)
        #expect(breaker.failed(event: 2, now: Self.start, generator: &random) == nil)
        #expect(breaker.failed(event: 3, now: Self.start, generator: &random) == .closed)
        #expect(breaker.state == .open(until: Self.start + .milliseconds(500)))
        #expect(breaker.admit(now: Self.start + .milliseconds(100)) == .waitUntil(Self.start + .milliseconds(500)))
    }

    @Test func oneEventFailingAgainAndAgainDoesNotOpenIt() {
        var random = SplitMix64(seed: 1)
        var breaker = CircuitBreaker(failureThreshold: 3, probes: Self.probes)
        for _ in 0..<10 { #expect(breaker.failed(event: 7, now: Self.start, generator: &random) == nil) }
        #expect(breaker.state == .closed)
    }

    @Test func anAnswerBetweenFailuresStartsTheCountOver() {
        var random = SplitMix64(seed: 1)
        var breaker = CircuitBreaker(failureThreshold: 3, probes: Self.probes)
        for event in 0..<30 {
            _ = breaker.failed(event: UInt64(event), now: Self.start, generator: &random)
            if event % 2 == 1 { #expect(breaker.answered() == nil) }
        }
        #expect(breaker.state == .closed)
    }

    @Test func afterTheDelayOneProbeGoesWhileOthersWaitAndItsSuccessCloses() {
        var random = SplitMix64(seed: 1)
        var breaker = CircuitBreaker(failureThreshold: 1, probes: Self.probes)
        _ = breaker.failed(event: 1, now: Self.start, generator: &random)
        let later = Self.start + .milliseconds(500)
        #expect(breaker.admit(now: later) == .probe)
        #expect(breaker.state == .halfOpen)
        #expect(breaker.admit(now: later) == .waitForProbe)
        #expect(breaker.answered() == .halfOpen)
        #expect(breaker.state == .closed)
        #expect(breaker.admit(now: later) == .call)
    }

    @Test func aFailedProbeOpensItAgainForLongerUpToTheCap() {
        var random = SplitMix64(seed: 1)
        var breaker = CircuitBreaker(failureThreshold: 1, probes: Self.probes)
        var now = Self.start
        _ = breaker.failed(event: 1, now: now, generator: &random)
        var delays: [Duration] = []
        for _ in 0..<5 {
            guard case .open(let until) = breaker.state else { Issue.record("not open"); return }
            delays.append(until - now)
            now = until
            #expect(breaker.admit(now: now) == .probe)
            #expect(breaker.failed(event: 1, now: now, generator: &random) == .halfOpen)
        }
        #expect(delays == [.milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(4)])
    }

    @Test func anAbandonedProbeLetsTheNextCallerProbe() {
        var random = SplitMix64(seed: 1)
        var breaker = CircuitBreaker(failureThreshold: 1, probes: Self.probes)
        _ = breaker.failed(event: 1, now: Self.start, generator: &random)
        let later = Self.start + .seconds(1)
        #expect(breaker.admit(now: later) == .probe)
        breaker.probeAbandoned()
        #expect(breaker.admit(now: later) == .probe)
    }

    @Test func theGaugeNamesEachState() {
        #expect(CircuitBreaker.State.closed.gauge == 0)
        #expect(CircuitBreaker.State.halfOpen.gauge == 1)
        #expect(CircuitBreaker.State.open(until: Self.start).gauge == 2)
    }
}

/// The rate limiter as a state machine, on instants the test chooses.
@Suite struct RateLimiterTests {
    static let start = ContinuousClock.now

    /// How many calls `limiter` lets go within `seconds`, reserving as fast as they are allowed.
    static func callsAllowed(_ limiter: inout RateLimiter, from start: ContinuousClock.Instant, seconds: Int) -> Int {
        var now = start
        var calls = 0
        let end = start + .seconds(seconds)
        // Calls are made a millisecond apart at the most, so that no limit at all still ends.
        while true {
            let wait = limiter.reserve(now: now)
            now = now + max(wait, .milliseconds(1))
            guard now < end else { return calls }
            calls += 1
            limiter.answered(now: now)
        }
    }

    @Test func unlimitedByDefault() {
        var limiter = RateLimiter(maxRate: nil, now: Self.start)
        for _ in 0..<10_000 { #expect(limiter.reserve(now: Self.start) == .zero) }
        #expect(limiter.gauge == 0)
    }

    @Test func aMaximumSpacesCallsOut() {
        var limiter = RateLimiter(maxRate: 100, now: Self.start)
        let calls = Self.callsAllowed(&limiter, from: Self.start, seconds: 10)
        #expect((990...1010).contains(calls), "\(calls) calls in 10 s at 100/s")
    }

    @Test func aThrottleLowersTheLimitToWhatTheProviderAcceptedAndHonoursRetryAfter() {
        var limiter = RateLimiter(maxRate: 400, now: Self.start)
        // A second of 250 accepted calls, then a 429 with Retry-After: 1.
        var now = Self.start
        for _ in 0..<250 {
            limiter.answered(now: now)
            now = now + .milliseconds(4)
        }
        now = Self.start + .milliseconds(1001)
        limiter.answered(now: now)
        limiter.throttled(now: now, retryAfter: .seconds(1))
        #expect(limiter.limit == 400, "one signal alone does not lower the limit")
        #expect(limiter.reserve(now: now) >= .seconds(1), "but its Retry-After holds the calls")
        limiter.throttled(now: now, retryAfter: nil)
        #expect(abs((limiter.limit ?? 0) - 225) < 1)
        // More signals at once do not lower it again.
        limiter.throttled(now: now, retryAfter: nil)
        #expect(abs((limiter.limit ?? 0) - 225) < 1)
        // Nor below half of it, whatever was accepted.
        var held = RateLimiter(maxRate: 400, now: Self.start)
        held.throttled(now: Self.start + .seconds(3), retryAfter: nil)
        held.throttled(now: Self.start + .seconds(3), retryAfter: nil)
        #expect(held.limit == 200)
    }

    @Test func withoutThrottlingTheLimitRisesStepByStepToTheMaximum() {
        var limiter = RateLimiter(maxRate: 300, now: Self.start)
        limiter.throttled(now: Self.start, retryAfter: nil)
        limiter.throttled(now: Self.start, retryAfter: nil)
        let lowered = limiter.limit ?? 0
        #expect(lowered < 300)
        _ = limiter.reserve(now: Self.start + .seconds(1))
        let once = limiter.limit ?? 0
        #expect(once > lowered && once <= lowered * 1.06 + 1)
        _ = limiter.reserve(now: Self.start + .seconds(120))
        #expect(limiter.limit == 300)
    }

    @Test func aSignalNowAndThenAmongManyAnswersDoesNotSlowEveryCall() {
        var limiter = RateLimiter(maxRate: 500, now: Self.start)
        var now = Self.start
        for index in 0..<5000 {
            now = now + .milliseconds(2)
            limiter.answered(now: now)
            if index % 100 == 0 { limiter.throttled(now: now, retryAfter: nil) }
        }
        #expect(limiter.limit == 500)
    }

    @Test func aRampAfterABreakerClosesStartsLowAndRises() {
        var limiter = RateLimiter(maxRate: nil, now: Self.start)
        limiter.rampUp(now: Self.start)
        #expect(limiter.limit == RateLimiter.rampStart)
        let first = Self.callsAllowed(&limiter, from: Self.start, seconds: 1)
        #expect(first <= Int(RateLimiter.rampStart) + 1)
        let second = Self.callsAllowed(&limiter, from: Self.start + .seconds(1), seconds: 1)
        #expect(second > first && second <= 2 * Int(RateLimiter.rampStart) + 2, "doubling: \(first), then \(second)")
        _ = limiter.reserve(now: Self.start + .seconds(30))
        #expect(limiter.limit == nil, "with no maximum, the ramp ends in no limit")
    }

    @Test func aRampGoesBackToTheLimitBeforeTheOutageThenRisesSlowly() {
        var limiter = RateLimiter(maxRate: 200, now: Self.start)
        limiter.rampUp(now: Self.start)
        _ = limiter.reserve(now: Self.start + .seconds(4))
        #expect(limiter.limit == 160)
        _ = limiter.reserve(now: Self.start + .seconds(5))
        #expect(limiter.limit == 200)
    }
}
