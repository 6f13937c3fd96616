import Testing
@testable import RiskPipeline

@Suite struct BackpressureTests {
    @Test func pausesAtSixteenWindowsWaitingAndResumesAtFour() {
        let backpressure = Backpressure(maxInFlight: 512)
        #expect(!backpressure.pauses(waiting: 0, pausedNow: false))
        #expect(!backpressure.pauses(waiting: 8191, pausedNow: false))
        #expect(backpressure.pauses(waiting: 8192, pausedNow: false))
        // Once paused, fetching stays paused until only four windows of records wait.
        #expect(backpressure.pauses(waiting: 8191, pausedNow: true))
        #expect(backpressure.pauses(waiting: 2049, pausedNow: true))
        #expect(!backpressure.pauses(waiting: 2048, pausedNow: true))
        #expect(!backpressure.pauses(waiting: 0, pausedNow: true))
    }

    @Test func aSmallWindowStillKeepsEnoughRecordsWaitingToOutlastAFetch() {
        let backpressure = Backpressure(maxInFlight: 1)
        #expect(backpressure == Backpressure(maxInFlight: 0))
        #expect(backpressure == Backpressure(maxInFlight: 64))
        #expect(backpressure.resumeAt == Backpressure.minimumResumeAt)
        #expect(!backpressure.pauses(waiting: 1023, pausedNow: false))
        #expect(backpressure.pauses(waiting: 1024, pausedNow: false))
        #expect(backpressure.pauses(waiting: 257, pausedNow: true))
        #expect(!backpressure.pauses(waiting: 256, pausedNow: true))
    }
}
