import Logging
import RiskPolicy
import Synchronization
import Testing
@testable import RiskPipeline

/// The account-level pause: one prober with backoff, everyone else waiting, observed by coordinator and health.
@Suite struct ProviderHealthTests {
    static let probes = RetrySchedule(base: .seconds(1), cap: .seconds(8), maxAttempts: nil, jitter: .none)
    static let reason = ProviderHealth.Reason(source: .numberScoring, code: "3", message: "no credit")

    @Test func theFirstFailureStartsThePauseAndItsWorkProbesWithGrowingDelays() {
        var state = ProviderHealthState(probes: Self.probes)
        #expect(!state.isPaused)
        let first = state.failed(Self.reason, by: 7)
        #expect(first.started)
        #expect(first.turn == .probe(after: .seconds(1)))
        let second = state.failed(Self.reason, by: 8)
        #expect(second.turn == .wait && !second.started)
        var delays: [ProviderHealthState.Turn] = []
        for _ in 0..<4 { delays.append(state.failed(Self.reason, by: 7).turn) }
        #expect(delays == [.probe(after: .seconds(2)), .probe(after: .seconds(4)), .probe(after: .seconds(8)), .probe(after: .seconds(8))])
        #expect(state.reason == Self.reason)
    }

    @Test func aSuccessEndsThePauseAndTheNextPauseProbesFromTheStart() {
        var state = ProviderHealthState(probes: Self.probes)
        _ = state.failed(Self.reason, by: 1)
        _ = state.failed(Self.reason, by: 1)
        let ended = state.succeeded()
        let endedAgain = state.succeeded()
        #expect(ended && !endedAgain)
        #expect(!state.isPaused)
        let next = state.failed(Self.reason, by: 2)
        #expect(next.turn == .probe(after: .seconds(1)) && next.started)
    }

    @Test func whenTheProberIsGoneTheNextFailureProbes() {
        var state = ProviderHealthState(probes: Self.probes)
        _ = state.failed(Self.reason, by: 1)
        state.proberGone()
        let next = state.failed(Self.reason, by: 2)
        #expect(next.turn == .probe(after: .seconds(2)))
    }

    @Test func observersSeeEachStartAndEndAndWaitingWorkGoesOnAtTheEnd() async throws {
        let slept = Mutex<[Duration]>([])
        let health = ProviderHealth(
            probes: Self.probes, metrics: WorkerMetrics(), logger: Logger(label: "test"),
            sleep: { delay in slept.withLock { $0.append(delay) } })
        var changes = await health.pauses().makeAsyncIterator()
        #expect(await changes.next() == false)
        try await health.failed(.numberScoring, code: "3", message: "no credit", by: 1)
        #expect(await changes.next() == true)
        #expect(health.pauseReason == Self.reason)
        #expect(slept.withLock { $0 } == [.seconds(1)])
        let waiting = Task { try await health.waitUntilOpen() }
        await health.succeeded()
        try await waiting.value
        #expect(await changes.next() == false)
        #expect(health.pauseReason == nil)
    }
}
