import Kafka
import Testing
@testable import RiskPipeline

/// The coordinator's bookkeeping without a broker: inputs in, actions out.
@Suite struct CoordinatorStateTests {
    static let p0 = TopicPartition(topic: "in", partition: 0)
    static let p1 = TopicPartition(topic: "in", partition: 1)

    static func record(_ partition: TopicPartition, _ offset: Int64, key: String? = nil) -> KafkaRecord {
        KafkaRecord(
            topic: partition.topic, partition: partition.partition, offset: offset, key: key.map { Array($0.utf8) },
            value: Array("{}".utf8))
    }

    static func output(_ id: String) -> WorkOutput {
        .scored(
            ProducerRecord(topic: "out", key: nil, value: Array(id.utf8)),
            claim: ClaimHolding(externalId: id, work: 0, partition: TopicPartition(topic: "in", partition: 0)))
    }

    /// The claims the actions end, in order.
    static func discarded(_ actions: [CoordinatorState.Action]) -> [ClaimHolding?] {
        actions.compactMap { if case .discarded(let claim) = $0 { claim } else { nil } }
    }

    /// The work the actions start, in order.
    static func started(_ actions: [CoordinatorState.Action]) -> [Work] {
        actions.compactMap { if case .start(let work) = $0 { work } else { nil } }
    }

    /// The batches the actions submit, in order.
    static func submitted(_ actions: [CoordinatorState.Action]) -> [EmitBatch] {
        actions.compactMap { if case .submit(let batch) = $0 { batch } else { nil } }
    }

    /// The pause (true) and resume (false) actions, in order.
    static func fetching(_ actions: [CoordinatorState.Action]) -> [Bool] {
        actions.compactMap {
            switch $0 {
            case .pause: true
            case .resume: false
            default: nil
            }
        }
    }

    static func externalIds(_ batch: EmitBatch) -> [String] {
        batch.outputs.compactMap { if case .scored(_, let claim) = $0 { claim.externalId } else { nil } }
    }

    @Test func startsAtMostMaxInFlightAndTheNextAsEachFinishes() {
        var state = CoordinatorState(maxInFlight: 2)
        _ = state.assigned([Self.p0])
        let first = state.accept((0..<5).map { Self.record(Self.p0, $0) })
        let running = Self.started(first)
        #expect(running.map(\.record.offset) == [0, 1])
        #expect(state.inFlight == 2)
        #expect(state.backlogCount == 3)

        let next = state.finished(running[0], output: Self.output("a"))
        #expect(Self.started(next).map(\.record.offset) == [2])
        #expect(Self.submitted(next).map(\.nextOffset) == [1])
        #expect(state.inFlight == 2)
    }

    @Test func recordsOfPartitionsNotOwnedAreDropped() {
        var state = CoordinatorState(maxInFlight: 4)
        _ = state.assigned([Self.p0])
        let actions = state.accept([Self.record(Self.p1, 0), Self.record(Self.p0, 0)])
        #expect(Self.started(actions).map(\.record.topicPartition) == [Self.p0])
        #expect(state.backlogCount == 0)
    }

    @Test func outputsFinishedOutOfOrderLeaveInInputOrder() {
        var state = CoordinatorState(maxInFlight: 8)
        _ = state.assigned([Self.p0])
        let work = Self.started(state.accept((0..<3).map { Self.record(Self.p0, $0) }))
        let start = ContinuousClock.now
        #expect(Self.submitted(state.finished(work[2], output: Self.output("c"), at: start + .milliseconds(1))).isEmpty)
        #expect(Self.submitted(state.finished(work[1], output: Self.output("b"), at: start + .milliseconds(2))).isEmpty)
        #expect(state.unreleased == 2)
        let batches = Self.submitted(state.finished(work[0], output: Self.output("a"), at: start + .milliseconds(3)))
        #expect(batches.count == 1)
        #expect(Self.externalIds(batches[0]) == ["a", "b", "c"])
        // Each output keeps the time its own processing ended, for the emitting stage's duration.
        #expect(batches[0].finishedAt == [3, 2, 1].map { start + .milliseconds($0) })
        #expect(batches[0].nextOffset == 3)
        #expect(state.isIdle)
    }

    @Test func aRecordWithTheSameKeyWaitsForTheOneBefore() {
        var state = CoordinatorState(maxInFlight: 8)
        _ = state.assigned([Self.p0])
        let actions = state.accept([Self.record(Self.p0, 0, key: "k"), Self.record(Self.p0, 1, key: "k"), Self.record(Self.p0, 2, key: "j")])
        let running = Self.started(actions)
        #expect(running.map(\.record.offset) == [0, 2])
        #expect(state.inFlight == 3)
        let next = state.finished(running[0], output: Self.output("a"))
        #expect(Self.started(next).map(\.record.offset) == [1])
    }

    @Test func aRevocationWaitsForWorkInFlightThenAbandonsWhatIsLeft() {
        var state = CoordinatorState(maxInFlight: 2)
        _ = state.assigned([Self.p0, Self.p1])
        let running = Self.started(state.accept([Self.record(Self.p0, 0), Self.record(Self.p0, 1), Self.record(Self.p1, 0)]))
        #expect(running.map(\.record.offset) == [0, 1])
        #expect(state.backlogCount == 1)

        let leaving = state.revoking([Self.p0])
        #expect(leaving == [Self.p0])
        #expect(!state.areIdle(leaving))
        // Record 1 finishes in time; its output waits for record 0, which does not.
        let finish = state.finished(running[1], output: Self.output("b"))
        #expect(Self.submitted(finish).isEmpty)
        #expect(Self.started(finish).map(\.record.topicPartition) == [Self.p1])

        let (revocation, actions) = state.revoked(leaving)
        #expect(revocation == CoordinatorState.Revocation(partitions: [Self.p0], abandoned: 2))
        #expect(Self.started(actions).isEmpty)
        #expect(state.inFlight == 1)
        #expect(state.unreleased == 0)
        #expect(state.ownedPartitions == [Self.p1])
        // The abandoned record finishing late changes nothing but ending its claim.
        let late = state.finished(running[0], output: Self.output("a"))
        #expect(late.count == 1 && Self.discarded(late) == [Self.output("a").claim])
        #expect(state.inFlight == 1)
    }

    @Test func aRevocationDropsRecordsNotStartedAndFreesTheirSlots() {
        var state = CoordinatorState(maxInFlight: 1)
        _ = state.assigned([Self.p0, Self.p1])
        let running = Self.started(state.accept([Self.record(Self.p0, 0), Self.record(Self.p0, 1), Self.record(Self.p1, 0)]))
        let leaving = state.revoking([Self.p0])
        #expect(state.backlogCount == 1)
        let (revocation, actions) = state.revoked(leaving)
        #expect(revocation.abandoned == 1)
        // The slot the abandoned record held goes to the other partition.
        #expect(Self.started(actions).map(\.record.topicPartition) == [Self.p1])
        let late = state.finished(running[0], output: Self.output("a"))
        #expect(late.count == 1 && Self.discarded(late) == [Self.output("a").claim])
    }

    @Test func aPartitionAssignedAgainStartsAFreshGeneration() {
        var state = CoordinatorState(maxInFlight: 4)
        _ = state.assigned([Self.p0])
        let old = Self.started(state.accept([Self.record(Self.p0, 5)]))
        _ = state.revoked(state.revoking([Self.p0]))
        _ = state.assigned([Self.p0])
        let fresh = Self.started(state.accept([Self.record(Self.p0, 5)]))
        #expect(fresh[0].generation != old[0].generation)
        let late = state.finished(old[0], output: Self.output("old"))
        #expect(late.count == 1 && Self.discarded(late) == [Self.output("old").claim])
        #expect(Self.externalIds(Self.submitted(state.finished(fresh[0], output: Self.output("new")))[0]) == ["new"])
    }

    @Test func fetchingPausesWhenManyRecordsWaitAndResumesWhenFewDo() throws {
        var state = CoordinatorState(maxInFlight: 1)
        _ = state.assigned([Self.p0])
        let pauseAt = Backpressure(maxInFlight: 1).pauseAt
        let resumeAt = Backpressure(maxInFlight: 1).resumeAt
        var actions = state.accept((0..<Int64(pauseAt)).map { Self.record(Self.p0, $0) })
        #expect(Self.fetching(actions).isEmpty, "\(pauseAt - 1) records wait: below the threshold")
        var running = try #require(Self.started(actions).first)
        actions = state.accept([Self.record(Self.p0, Int64(pauseAt))])
        #expect(Self.fetching(actions) == [true])
        #expect(state.consumerPaused)

        var work = Self.started(state.accept([]))
        #expect(work.isEmpty)
        // Finish records one by one until few enough wait.
        var resumed = false
        var offset: Int64 = 0
        while !resumed, offset < Int64(pauseAt) {
            actions = state.finished(running, output: Self.output("\(offset)"))
            resumed = Self.fetching(actions) == [false]
            work = Self.started(actions)
            if let next = work.first { running = next }
            offset += 1
        }
        #expect(resumed)
        #expect(state.backlogCount == resumeAt)
    }

    @Test func aProviderPausePausesFetchingAndItsEndResumesIt() {
        var state = CoordinatorState(maxInFlight: 4)
        _ = state.assigned([Self.p0])
        #expect(Self.fetching(state.setProvidersPaused(true)) == [true])
        #expect(Self.fetching(state.setProvidersPaused(true)).isEmpty)
        // A partition assigned during the pause is paused at once.
        #expect(Self.fetching(state.assigned([Self.p1])) == [true])
        #expect(Self.fetching(state.setProvidersPaused(false)) == [false])
    }

    @Test func aDrainDropsTheBacklogStartsNothingAndEndsIdle() {
        var state = CoordinatorState(maxInFlight: 1)
        _ = state.assigned([Self.p0])
        let running = Self.started(state.accept([Self.record(Self.p0, 0), Self.record(Self.p0, 1)]))
        #expect(Self.fetching(state.drain()) == [true])
        #expect(state.backlogCount == 0)
        #expect(!state.isIdle)
        let actions = state.finished(running[0], output: Self.output("a"))
        #expect(Self.started(actions).isEmpty)
        #expect(Self.submitted(actions).count == 1)
        #expect(state.isIdle)
        #expect(Self.started(state.accept([Self.record(Self.p0, 2)])).isEmpty)
    }

    @Test func anOffsetThatDoesNotIncreaseIsRefusedAndSkipped() {
        var state = CoordinatorState(maxInFlight: 4)
        _ = state.assigned([Self.p0])
        let actions = state.accept([Self.record(Self.p0, 3), Self.record(Self.p0, 3)])
        #expect(Self.started(actions).count == 1)
        #expect(actions.contains { if case .refused = $0 { true } else { false } })
        #expect(state.inFlight == 1)
    }

    @Test func finishedOutputsHeldBackAreBoundedSeparately() {
        var state = CoordinatorState(maxInFlight: 2, unreleasedFactor: 1)
        _ = state.assigned([Self.p0])
        var running = Self.started(state.accept((0..<6).map { Self.record(Self.p0, $0) }))
        // Record 0 hangs; record 1 finishes and its output waits: 1 unfinished + 1 held back.
        var actions = state.finished(running[1], output: Self.output("b"))
        running += Self.started(actions)
        #expect(state.unreleased == 1)
        #expect(state.inFlight == 2)
        actions = state.finished(running[2], output: Self.output("c"))
        // Two outputs are held back now: the bound (2) stops new starts although a slot is free.
        #expect(Self.started(actions).isEmpty)
        #expect(state.inFlight == 1)
    }
}
