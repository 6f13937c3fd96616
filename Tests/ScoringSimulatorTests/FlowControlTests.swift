import Testing
@testable import ScoringSimulator

/// The allowance buckets and outage ends as values, on times given by the test.
@Suite struct FlowControlTests {
    @Test func bucketAdmitsItsAllowanceThenRefillsContinuously() {
        var bucket = AllowanceBucket(perSecond: 4, now: .zero)
        #expect(bucket.take(upTo: 3, now: .zero) == 3)
        #expect(bucket.take(upTo: 3, now: .zero) == 1)
        #expect(bucket.take(upTo: 1, now: .zero) == 0)
        #expect(bucket.secondsUntilNextToken == 1)
        // a quarter second brings one token back, not more
        #expect(bucket.take(upTo: 5, now: .milliseconds(250)) == 1)
        #expect(bucket.take(upTo: 1, now: .milliseconds(499)) == 0)
        #expect(bucket.take(upTo: 1, now: .milliseconds(500)) == 1)
        // a long pause fills it to its allowance, never beyond
        #expect(bucket.take(upTo: 100, now: .seconds(60)) == 4)
    }

    @Test func retryAfterIsWholeSecondsOfAtLeastOne() {
        var fast = AllowanceBucket(perSecond: 1000, now: .zero)
        #expect(fast.take(upTo: 2000, now: .zero) == 1000)
        #expect(fast.secondsUntilNextToken == 1)
        var slow = AllowanceBucket(perSecond: 1, now: .zero)
        #expect(slow.take(upTo: 1, now: .zero) == 1)
        #expect(slow.take(upTo: 1, now: .milliseconds(900)) == 0)
        #expect(slow.secondsUntilNextToken == 1)
    }

    @Test func allowancePerProviderAndUnlimitedAtZero() {
        var flow = FlowControl(
            outage: nil, allowance: SandboxAllowance(phoneRiskPerSecond: 2, numberScoringPerSecond: 0), now: .zero)
        #expect(flow.admit(1, to: .phoneRisk, now: .zero) == .init(admitted: 1, retryAfter: 0))
        #expect(flow.admit(1, to: .phoneRisk, now: .zero) == .init(admitted: 1, retryAfter: 0))
        #expect(flow.admit(1, to: .phoneRisk, now: .zero) == .init(admitted: 0, retryAfter: 1))
        #expect(flow.admit(10_000, to: .numberScoring, now: .zero).admitted == 10_000)
        // setting the allowance starts with full buckets
        flow.setAllowance(SandboxAllowance(phoneRiskPerSecond: 0, numberScoringPerSecond: 50), now: .zero)
        #expect(flow.admit(30, to: .numberScoring, now: .zero).admitted == 30)
        #expect(flow.admit(30, to: .numberScoring, now: .zero) == .init(admitted: 20, retryAfter: 1))
        #expect(flow.admit(5, to: .phoneRisk, now: .zero).admitted == 5)
    }

    @Test func outageEndsByItselfAndCountsRetryAfterDown() {
        var flow = FlowControl(
            outage: SandboxOutage(.unavailable, duration: .seconds(5)), allowance: SandboxAllowance(), now: .zero)
        #expect(flow.gate(.phoneRisk, now: .zero) == .unavailable(retryAfter: 5))
        #expect(flow.gate(.numberScoring, now: .milliseconds(2500)) == .unavailable(retryAfter: 3))
        #expect(flow.gate(.phoneRisk, now: .milliseconds(4999)) == .unavailable(retryAfter: 1))
        #expect(flow.outages(now: .seconds(4))[.phoneRisk]?.duration == .seconds(1))
        #expect(flow.gate(.phoneRisk, now: .seconds(5)) == .open)
        #expect(flow.gate(.numberScoring, now: .seconds(5)) == .open)
        #expect(flow.outages(now: .seconds(5)).isEmpty)
    }

    @Test func outageOnOneProviderWithExplicitOrDefaultRetryAfter() {
        var flow = FlowControl(outage: nil, allowance: SandboxAllowance(), now: .zero)
        #expect(flow.set(SandboxOutage(.hang, provider: .phoneRisk), now: .zero) == [.phoneRisk])
        #expect(flow.gate(.phoneRisk, now: .seconds(1000)) == .hang)
        #expect(flow.gate(.numberScoring, now: .zero) == .open)
        #expect(flow.hang(on: .phoneRisk, now: .zero)?.endsAt == nil)
        _ = flow.set(SandboxOutage(.unavailable, provider: .numberScoring, duration: .seconds(30), retryAfter: 2), now: .zero)
        #expect(flow.gate(.numberScoring, now: .zero) == .unavailable(retryAfter: 2))
        _ = flow.set(SandboxOutage(.unavailable, provider: .numberScoring), now: .zero)
        #expect(flow.gate(.numberScoring, now: .zero) == .unavailable(retryAfter: FlowControl.defaultRetryAfter))
        #expect(flow.hang(on: .numberScoring, now: .zero) == nil)
        #expect(flow.clearOutage(on: .phoneRisk) == [.phoneRisk])
        #expect(flow.gate(.phoneRisk, now: .zero) == .open)
        #expect(flow.gate(.numberScoring, now: .zero) != .open)
        #expect(flow.clearOutage(on: nil) == SandboxProvider.allCases)
        #expect(flow.gate(.numberScoring, now: .zero) == .open)
    }
}
