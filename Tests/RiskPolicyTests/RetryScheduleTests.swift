import FixtureTestSupport
import Testing
@testable import RiskPolicy

@Suite("Retry schedule")
struct RetryScheduleTests {
    @Test func withoutJitterTheDelaysDoubleUpToTheCapAndTheAttemptsRunOut() {
        let schedule = RetrySchedule(base: .milliseconds(200), cap: .seconds(1), maxAttempts: 5, jitter: .none)
        var backoff = schedule.start()
        var generator = SplitMix64(seed: 1)
        var delays: [Duration] = []
        while let delay = backoff.nextDelay(using: &generator) { delays.append(delay) }
        #expect(delays == [.milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1)])
        #expect(backoff.failedAttempts == 5, "five attempts in all: the first and four retries")
        #expect(backoff.nextDelay(using: &generator) == nil)
    }

    @Test func theDefaultsAreThoseOfTheBrief() {
        let schedule = RetrySchedule.providerCalls
        #expect(schedule.base == .milliseconds(200))
        #expect(schedule.cap == .seconds(10))
        #expect(schedule.maxAttempts == 5)
        #expect(schedule.retryAfterCap == .seconds(60))
        #expect(schedule.jitter == .full)
        #expect(RetrySchedule.pauseProbes.maxAttempts == nil)
        #expect(RetrySchedule.pauseProbes.base == .seconds(1))
        #expect(RetrySchedule.pauseProbes.cap == .seconds(60))
    }

    @Test(arguments: RetrySchedule.Jitter.allCases)
    func jitteredDelaysStayWithinTheirBounds(jitter: RetrySchedule.Jitter) {
        let schedule = RetrySchedule(base: .milliseconds(200), cap: .seconds(10), maxAttempts: 12, jitter: jitter)
        var generator = SplitMix64(seed: 77)
        var distinct: Set<Duration> = []
        for _ in 0..<200 {
            var backoff = schedule.start()
            var attempt = 0
            var previous = schedule.base
            while let delay = backoff.nextDelay(using: &generator) {
                attempt += 1
                let exponential = schedule.exponentialDelay(afterAttempt: attempt)
                #expect(delay <= schedule.cap)
                #expect(delay >= .zero)
                switch jitter {
                case .none: #expect(delay == exponential)
                case .full: #expect(delay <= exponential)
                case .equal: #expect(delay >= exponential / 2 && delay <= exponential)
                case .decorrelated: #expect(delay >= schedule.base && delay <= max(schedule.base, previous * 3))
                }
                previous = delay
                distinct.insert(delay)
            }
            #expect(attempt == 11)
        }
        #expect(jitter == .none ? distinct.count <= 11 : distinct.count > 100, "jitter spreads the delays")
    }

    @Test func theSameSeedGivesTheSameDelays() {
        func delays(seed: UInt64) -> [Duration] {
            var generator = SplitMix64(seed: seed)
            var backoff = RetrySchedule(jitter: .decorrelated).start()
            var result: [Duration] = []
            while let delay = backoff.nextDelay(using: &generator) { result.append(delay) }
            return result
        }
        #expect(delays(seed: 5) == delays(seed: 5))
        #expect(delays(seed: 5) != delays(seed: 6))
    }

    @Test func retryAfterIsWaitedAtLeastButCapped() {
        var generator = SplitMix64(seed: 8)
        var backoff = RetrySchedule(base: .milliseconds(200), cap: .seconds(10), maxAttempts: 10, retryAfterCap: .seconds(60), jitter: .none).start()
        #expect(backoff.nextDelay(retryAfter: .seconds(3), using: &generator) == .seconds(3))
        #expect(backoff.nextDelay(retryAfter: .seconds(30), using: &generator) == .seconds(30), "Retry-After may exceed the backoff cap")
        #expect(backoff.nextDelay(retryAfter: .seconds(3600), using: &generator) == .seconds(60), "but not its own cap")
        #expect(backoff.nextDelay(retryAfter: .seconds(-5), using: &generator) == .milliseconds(1600))
        #expect(backoff.nextDelay(retryAfter: .milliseconds(1), using: &generator) == .milliseconds(3200), "a short Retry-After does not shorten the backoff")
        #expect(backoff.failedAttempts == 5)
    }

    @Test func fullJitterWithRetryAfterNeverWaitsLessThanRetryAfter() {
        var generator = SplitMix64(seed: 9)
        for _ in 0..<200 {
            var backoff = RetrySchedule(jitter: .full).start()
            while let delay = backoff.nextDelay(retryAfter: .seconds(2), using: &generator) {
                #expect(delay >= .seconds(2) && delay <= .seconds(10))
            }
        }
    }

    @Test func retryAfterDoesNotAddAttempts() {
        var generator = SplitMix64(seed: 3)
        var backoff = RetrySchedule(maxAttempts: 2).start()
        #expect(backoff.nextDelay(retryAfter: .seconds(1), using: &generator) != nil)
        #expect(backoff.nextDelay(retryAfter: .seconds(1), using: &generator) == nil)
    }

    @Test func probesNeverGiveUpAndSettleBetweenHalfTheCapAndTheCap() {
        var generator = SplitMix64(seed: 11)
        var backoff = RetrySchedule.pauseProbes.start()
        var delays: [Duration] = []
        for _ in 0..<1000 {
            guard let delay = backoff.nextDelay(using: &generator) else {
                Issue.record("the probe schedule gave up")
                return
            }
            delays.append(delay)
        }
        #expect(delays[0] >= .milliseconds(500) && delays[0] <= .seconds(1))
        #expect(delays.allSatisfy { $0 > .zero && $0 <= .seconds(60) })
        #expect(delays.suffix(900).allSatisfy { $0 >= .seconds(30) })
        backoff.reset()
        #expect(backoff.failedAttempts == 0)
        #expect(backoff.nextDelay(using: &generator).map { $0 <= .seconds(1) } == true, "reset starts from the base again")
    }

    @Test func outOfRangeSettingsAreClamped() {
        let schedule = RetrySchedule(base: .zero, cap: .milliseconds(-5), maxAttempts: 0, retryAfterCap: .seconds(-1))
        #expect(schedule.base == .milliseconds(1))
        #expect(schedule.cap == .milliseconds(1))
        #expect(schedule.maxAttempts == 1)
        #expect(schedule.retryAfterCap == .zero)
        var backoff = schedule.start()
        #expect(backoff.nextDelay() == nil, "one attempt in all: no retry")
        #expect(RetrySchedule(base: .seconds(1), cap: .seconds(60), maxAttempts: nil, jitter: .none).exponentialDelay(afterAttempt: 10_000) == .seconds(60))
    }
}

@Suite struct RetryTableTests {
    @Test func sessionRestartsAndStoreFailuresNeverSpinAndNeverGiveUp() {
        var generator = SplitMix64(seed: 5)
        for schedule in [RetryTable.standard.sessionRestarts, RetryTable.standard.storeFailures, RetryTable.standard.pauseProbes, RetryTable.standard.breakerProbes] {
            var backoff = schedule.start()
            for _ in 0..<200 {
                let delay = backoff.nextDelay(using: &generator)
                #expect(delay != nil)
                #expect((delay ?? .zero) >= schedule.base / 2, "equal jitter keeps at least half the base delay")
            }
        }
    }

    @Test func transactionCommitsGiveUpAfterFiveAttempts() {
        var backoff = RetryTable.standard.transactionCommits.start()
        var delays = 0
        while backoff.nextDelay() != nil { delays += 1 }
        #expect(delays == 4)
        #expect(backoff.failedAttempts == 5)
    }
}
