import FixtureTestSupport
import Testing
@testable import RiskPipeline

@Suite("Partition sequencer")
struct PartitionSequencerTests {
    typealias Sequencer = PartitionSequencer<String>

    static func key(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func differentKeysStartAtOnceAndOutputsLeaveInOffsetOrder() throws {
        var sequencer = Sequencer()
        #expect(try sequencer.enqueue(offset: 10, key: Self.key("a")))
        #expect(try sequencer.enqueue(offset: 11, key: Self.key("b")))
        #expect(try sequencer.enqueue(offset: 12, key: Self.key("c")))
        #expect(sequencer.runningCount == 3)
        #expect(sequencer.committableOffset == nil)

        let third = try sequencer.finish(offset: 12, output: "c")
        #expect(third.ready.isEmpty)
        let second = try sequencer.finish(offset: 11, output: "b")
        #expect(second.ready.isEmpty)
        #expect(sequencer.committableOffset == nil, "nothing may be committed while offset 10 runs")
        let first = try sequencer.finish(offset: 10, output: "a")
        #expect(first.ready.map(\.offset) == [10, 11, 12])
        #expect(first.ready.map(\.output) == ["a", "b", "c"])
        #expect(sequencer.committableOffset == 13)
        #expect(sequencer.isIdle)
        #expect(sequencer.inFlightCount == 0)
    }

    @Test func sameKeyWaitsForThePreviousRecordOfThatKey() throws {
        var sequencer = Sequencer()
        #expect(try sequencer.enqueue(offset: 0, key: Self.key("a")))
        #expect(try sequencer.enqueue(offset: 1, key: Self.key("b")))
        #expect(try sequencer.enqueue(offset: 2, key: Self.key("a")) == false)
        #expect(try sequencer.enqueue(offset: 3, key: Self.key("a")) == false)
        #expect(sequencer.waitingCount == 2)
        #expect(throws: Sequencer.Rejection.notStarted(2)) { try sequencer.finish(offset: 2, output: "x") }

        let afterB = try sequencer.finish(offset: 1, output: "b")
        #expect(afterB.startable.isEmpty)
        #expect(afterB.ready.isEmpty)

        let afterFirstA = try sequencer.finish(offset: 0, output: "a0")
        #expect(afterFirstA.startable == [2])
        #expect(afterFirstA.ready.map(\.offset) == [0, 1])
        #expect(sequencer.committableOffset == 2)

        let afterSecondA = try sequencer.finish(offset: 2, output: "a2")
        #expect(afterSecondA.startable == [3])
        #expect(afterSecondA.ready.map(\.offset) == [2])

        let afterThirdA = try sequencer.finish(offset: 3, output: "a3")
        #expect(afterThirdA.startable.isEmpty)
        #expect(afterThirdA.ready.map(\.output) == ["a3"])
        #expect(sequencer.committableOffset == 4)

        // The key is free again: a later record of it starts at once.
        #expect(try sequencer.enqueue(offset: 4, key: Self.key("a")))
    }

    @Test func nullKeysNeverWaitForEachOther() throws {
        var sequencer = Sequencer()
        for offset in Int64(0)..<5 {
            #expect(try sequencer.enqueue(offset: offset, key: nil))
        }
        #expect(sequencer.runningCount == 5)
        let completion = try sequencer.finish(offset: 4, output: "4")
        #expect(completion.startable.isEmpty)
        #expect(completion.ready.isEmpty)
    }

    @Test func offsetGapsAreFineAndTheCommittableOffsetFollowsTheReleasedRecord() throws {
        var sequencer = Sequencer(committedOffset: 100)
        #expect(sequencer.committableOffset == 100)
        #expect(try sequencer.enqueue(offset: 100, key: Self.key("a")))
        #expect(try sequencer.enqueue(offset: 103, key: Self.key("b")))  // 101-102: a transaction marker, say
        #expect(try sequencer.enqueue(offset: 107, key: Self.key("a")) == false)
        _ = try sequencer.finish(offset: 103, output: "b")
        let completion = try sequencer.finish(offset: 100, output: "a")
        #expect(completion.ready.map(\.offset) == [100, 103])
        #expect(completion.startable == [107])
        #expect(sequencer.committableOffset == 104)
        #expect(sequencer.oldestInFlight == 107)
        _ = try sequencer.finish(offset: 107, output: "a2")
        #expect(sequencer.committableOffset == 108)
    }

    @Test func misuseIsRefusedWithoutChangingTheState() throws {
        var sequencer = Sequencer()
        #expect(try sequencer.enqueue(offset: 5, key: Self.key("a")))
        #expect(throws: Sequencer.Rejection.offsetNotIncreasing(offset: 5, last: 5)) { try sequencer.enqueue(offset: 5, key: nil) }
        #expect(throws: Sequencer.Rejection.offsetNotIncreasing(offset: 4, last: 5)) { try sequencer.enqueue(offset: 4, key: nil) }
        #expect(throws: Sequencer.Rejection.unknownOffset(6)) { try sequencer.finish(offset: 6, output: "") }
        #expect(throws: Sequencer.Rejection.unknownOffset(3)) { try sequencer.finish(offset: 3, output: "") }
        #expect(try sequencer.enqueue(offset: 6, key: nil))
        _ = try sequencer.finish(offset: 6, output: "six")
        #expect(throws: Sequencer.Rejection.alreadyFinished(6)) { try sequencer.finish(offset: 6, output: "again") }
        let completion = try sequencer.finish(offset: 5, output: "five")
        #expect(completion.ready.map(\.output) == ["five", "six"])
        #expect(throws: Sequencer.Rejection.unknownOffset(5)) { try sequencer.finish(offset: 5, output: "released") }
    }

    @Test func abandonDropsEverythingReportsItAndRejectsLateFinishes() throws {
        var sequencer = Sequencer()
        let generation = sequencer.generation
        #expect(try sequencer.enqueue(offset: 0, key: Self.key("a")))
        #expect(try sequencer.enqueue(offset: 1, key: Self.key("a")) == false)
        #expect(try sequencer.enqueue(offset: 2, key: Self.key("b")))
        #expect(try sequencer.enqueue(offset: 3, key: nil))
        #expect(try sequencer.enqueue(offset: 4, key: nil))
        _ = try sequencer.finish(offset: 3, output: "three")

        let dropped = sequencer.abandon()
        #expect(dropped.waiting == [1])
        #expect(dropped.running == [0, 2, 4])
        #expect(dropped.finished == [Sequencer.Release(offset: 3, output: "three")])
        #expect(dropped.count == 5)
        #expect(sequencer.isIdle)
        #expect(sequencer.runningCount == 0 && sequencer.waitingCount == 0)
        #expect(sequencer.committableOffset == nil, "nothing was released, nothing may be committed")
        #expect(sequencer.generation != generation)

        // The partition comes back: consumption restarts at the committed offset, and a late finish of the
        // abandoned offset 0 is refused rather than taken for the new record at offset 0.
        #expect(try sequencer.enqueue(offset: 0, key: Self.key("a")))
        #expect(throws: Sequencer.Rejection.staleGeneration(offset: 0, generation: generation, current: sequencer.generation)) {
            try sequencer.finish(offset: 0, output: "late", generation: generation)
        }
        #expect(sequencer.inFlightCount == 1)
        // The key map was cleared: key "b" is free, key "a" is held only by the new offset 0.
        #expect(try sequencer.enqueue(offset: 1, key: Self.key("b")))
        #expect(try sequencer.enqueue(offset: 2, key: Self.key("a")) == false)
        let completion = try sequencer.finish(offset: 0, output: "new", generation: sequencer.generation)
        #expect(completion.startable == [2])
        #expect(completion.ready.map(\.output) == ["new"])
    }

    /// Property test: random keys (some null), random offset gaps, and a random interleaving of enqueues and
    /// finishes. Checks, at every step, that a record starts only when the previous record with its key has
    /// finished, that two records with the same key never run together, that outputs leave exactly once each in
    /// offset order with each output belonging to its offset, that the committable offset never passes an
    /// unfinished record, and that the counters agree with a simple model.
    @Test(arguments: 0..<40)
    func randomInterleavingsKeepEveryGuarantee(seed: Int) throws {
        var random = SplitMix64(seed: UInt64(seed) &* 0x9E37_79B9 &+ 17)
        var sequencer = Sequencer()
        let keyCount = 1 + Int(random.next() % 12)
        let recordCount = 300 + Int(random.next() % 300)
        let window = 1 + Int(random.next() % 64)

        var keys: [Int64: [UInt8]?] = [:]
        var enqueued: [Int64] = []
        var running: Set<Int64> = []
        var runningKeys: Set<[UInt8]> = []
        var finished: Set<Int64> = []
        var lastWithKey: [[UInt8]: Int64] = [:]
        var previousWithKey: [Int64: Int64] = [:]
        var released: [Int64] = []
        var nextOffset: Int64 = Int64(random.next() % 1000)

        func start(_ offset: Int64) {
            #expect(!running.contains(offset), "offset \(offset) started twice")
            if let previous = previousWithKey[offset] {
                #expect(finished.contains(previous), "offset \(offset) started before \(previous) with the same key finished")
            }
            if let key = keys[offset] ?? nil {
                #expect(!runningKeys.contains(key), "two records with one key run together (offset \(offset))")
                runningKeys.insert(key)
            }
            running.insert(offset)
        }

        var enqueuedCount = 0
        while released.count < recordCount {
            let canEnqueue = enqueuedCount < recordCount && sequencer.inFlightCount < window
            let shouldEnqueue = canEnqueue && (running.isEmpty || random.next() % 2 == 0)
            if shouldEnqueue {
                let offset = nextOffset
                nextOffset += 1 + (random.next() % 5 == 0 ? Int64(random.next() % 3) : 0)
                let key: [UInt8]? = random.next() % 6 == 0 ? nil : Self.key("k\(random.next() % UInt64(keyCount))")
                keys[offset] = key
                if let key, let previous = lastWithKey[key] { previousWithKey[offset] = previous }
                if let key { lastWithKey[key] = offset }
                enqueued.append(offset)
                enqueuedCount += 1
                if try sequencer.enqueue(offset: offset, key: key) { start(offset) }
            } else {
                let candidates = running.sorted()
                let offset = candidates[Int(random.next() % UInt64(candidates.count))]
                running.remove(offset)
                if let key = keys[offset] ?? nil { runningKeys.remove(key) }
                finished.insert(offset)
                let completion = try sequencer.finish(offset: offset, output: "out-\(offset)")
                #expect(completion.startable.count <= 1)
                for next in completion.startable {
                    #expect(keys[next] ?? nil == keys[offset] ?? nil, "a finish started a record of another key")
                    start(next)
                }
                for release in completion.ready {
                    #expect(release.output == "out-\(release.offset)")
                    #expect(finished.contains(release.offset))
                    released.append(release.offset)
                }
            }
            // Released: exactly the enqueued prefix, in offset order.
            #expect(released == Array(enqueued.prefix(released.count)))
            // The committable offset never passes an unfinished record.
            if let committable = sequencer.committableOffset {
                let firstUnreleased = enqueued.count > released.count ? enqueued[released.count] : Int64.max
                #expect(committable <= firstUnreleased)
                #expect(enqueued.prefix(released.count).allSatisfy { finished.contains($0) })
                #expect(released.last.map { committable == $0 + 1 } ?? true)
            }
            #expect(sequencer.runningCount == running.count)
            #expect(sequencer.inFlightCount == enqueued.count - released.count)
        }
        #expect(released == enqueued)
        #expect(sequencer.isIdle)
        #expect(sequencer.committableOffset == enqueued.last.map { $0 + 1 })
    }

    /// Many records with up to 512 in flight and a handful of hot keys: every operation is cheap, so a quarter of a
    /// million records pass quickly even in a debug build (no timing asserted, only the results).
    @Test func aLargeStreamWithAFullWindowPassesThrough() throws {
        var sequencer = PartitionSequencer<Int64>()
        var random = SplitMix64(seed: 7)
        var running: [Int64] = []
        var releasedCount = 0
        var lastReleased: Int64 = -1
        var nextOffset: Int64 = 0
        let total: Int64 = 250_000
        while releasedCount < Int(total) {
            while nextOffset < total, sequencer.inFlightCount < 512 {
                let key: [UInt8] = [UInt8(truncatingIfNeeded: random.next() % 200)]
                if try sequencer.enqueue(offset: nextOffset, key: key) { running.append(nextOffset) }
                nextOffset += 1
            }
            let index = Int(random.next() % UInt64(running.count))
            let offset = running.remove(at: index)
            let completion = try sequencer.finish(offset: offset, output: offset)
            running += completion.startable
            for release in completion.ready {
                if release.offset != lastReleased + 1 || release.output != release.offset {
                    Issue.record("offset \(release.offset) released after \(lastReleased)")
                }
                lastReleased = release.offset
            }
            releasedCount += completion.ready.count
        }
        #expect(sequencer.committableOffset == total)
        #expect(sequencer.isIdle)
    }
}
