import Testing

@testable import RiskPipeline

@Suite struct BackpressureTests {
    @Test func pausesAtFourWindowsWaitingAndResumesAtOne() {
        let backpressure = Backpressure(maxInFlight: 512)
        #expect(!backpressure.pauses(waiting: 0, pausedNow: false))
        #expect(!backpressure.pauses(waiting: 2047, pausedNow: false))
        #expect(backpressure.pauses(waiting: 2048, pausedNow: false))
        // Once paused, fetching stays paused until only one window of records waits.
        #expect(backpressure.pauses(waiting: 2047, pausedNow: true))
        #expect(backpressure.pauses(waiting: 513, pausedNow: true))
        #expect(!backpressure.pauses(waiting: 512, pausedNow: true))
        #expect(!backpressure.pauses(waiting: 0, pausedNow: true))
    }

    @Test func oneSlotStillLeavesRoomToRefill() {
        let backpressure = Backpressure(maxInFlight: 1)
        #expect(backpressure == Backpressure(maxInFlight: 0))
        #expect(!backpressure.pauses(waiting: 3, pausedNow: false))
        #expect(backpressure.pauses(waiting: 4, pausedNow: false))
        #expect(backpressure.pauses(waiting: 2, pausedNow: true))
        #expect(!backpressure.pauses(waiting: 1, pausedNow: true))
    }
}
