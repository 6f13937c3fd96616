import ClockTestSupport
import FixtureTestSupport
import Foundation
import Testing
@testable import IdempotencyStore

@Suite("IdempotencyRetention")
struct IdempotencyRetentionTests {
    @Test func theCutoffIsNowMinusTheRetention() {
        let now = Date(timeIntervalSince1970: 1_000_000)
        #expect(IdempotencyRetention<ManualClock>.cutoff(now: now, retention: .seconds(7 * 24 * 3600)) == now.addingTimeInterval(-604_800))
        #expect(IdempotencyRetention<ManualClock>.cutoff(now: now, retention: .milliseconds(1_500)) == now.addingTimeInterval(-1.5))
        #expect(IdempotencyRetention<ManualClock>.defaultRetention == .seconds(604_800))
    }

    @Test func purgeOnceDeletesOnlyEntriesOlderThanTheRetention() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let day: TimeInterval = 24 * 3600
        let start = Date(timeIntervalSince1970: 1_750_000_000)
        let time = TestTime(start)
        let store = try await SQLiteIdempotencyStore.open(path: directory.file("r.sqlite"), now: time.closure)
        try await store.saveNumberScoring(externalId: "day-0", json: Array("{}".utf8))
        time.set(start.addingTimeInterval(3 * day))
        try await store.saveNumberScoring(externalId: "day-3", json: Array("{}".utf8))

        let retention = IdempotencyRetention(store: store, clock: ManualClock(), now: time.closure)
        time.set(start.addingTimeInterval(7 * day))  // exactly 7 days after day-0: not older than the retention yet
        #expect(await retention.purgeOnce() == 0)
        time.set(start.addingTimeInterval(7 * day + 1))
        #expect(await retention.purgeOnce() == 1)
        #expect(try await store.lookup(externalId: "day-0") == nil)
        #expect(try await store.lookup(externalId: "day-3") != nil)
        try await store.close()
    }

    @Test func theServicePurgesAtStartAndThenEveryIntervalUntilCancelled() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let start = Date(timeIntervalSince1970: 1_750_000_000)
        let time = TestTime(start)
        let store = try await SQLiteIdempotencyStore.open(path: directory.file("s.sqlite"), now: time.closure)
        let clock = ManualClock()
        let retention = IdempotencyRetention(
            store: store, retention: .seconds(100), interval: .seconds(60), clock: clock, now: time.closure
        )
        try await store.saveNumberScoring(externalId: "a", json: Array("{}".utf8))
        time.set(start.addingTimeInterval(50))
        try await store.saveNumberScoring(externalId: "b", json: Array("{}".utf8))
        time.set(start.addingTimeInterval(120))  // a is 120 s old, b 70 s

        let service = Task { try await retention.run() }
        await clock.sleepers(atLeast: 1)  // the first purge is done, the service sleeps
        #expect(try await store.lookup(externalId: "a") == nil)
        #expect(try await store.lookup(externalId: "b") != nil)

        time.set(start.addingTimeInterval(200))  // b is 150 s old now
        clock.advance(by: .seconds(59))  // not yet time for the next purge
        #expect(try await store.lookup(externalId: "b") != nil)
        clock.advance(by: .seconds(1))
        // advance(by:) took the due sleeper off the clock, so this waits until the service sleeps again,
        // which it does only after the second purge.
        await clock.sleepers(atLeast: 1)
        #expect(try await store.lookup(externalId: "b") == nil)

        service.cancel()
        try await service.value  // returns quietly on cancellation
        try await store.close()
    }
}
