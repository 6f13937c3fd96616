import Kafka
import Logging
import Synchronization
import Testing
@testable import RiskPipeline

/// A consumer's flow control that records what it is told.
final class RecordingFlow: PartitionFlow {
    let calls = Mutex<[(paused: Bool, partitions: [TopicPartition])]>([])

    func pause(_ partitions: [TopicPartition]) throws { calls.withLock { $0.append((true, partitions)) } }
    func resume(_ partitions: [TopicPartition]) throws { calls.withLock { $0.append((false, partitions)) } }

    var pausedNow: Bool { calls.withLock { $0.last?.paused ?? false } }
}

/// The coordinator actor over the state machine, with a recording sink and flow instead of a broker.
@Suite struct WorkerCoordinatorTests {
    static let p0 = TopicPartition(topic: "in", partition: 0)
    static let p1 = TopicPartition(topic: "in", partition: 1)

    struct Harness {
        let coordinator: WorkerCoordinator
        let emitter: OutputEmitter
        let sink: RecordingSink
        let flow: RecordingFlow
        let started: AsyncStream<Work>
        let loop: Task<Void, any Error>
    }

    static func withCoordinator(maxInFlight: Int = 4, _ body: (Harness) async throws -> Void) async throws {
        let logger = Logger(label: "test")
        let sink = RecordingSink()
        let flow = RecordingFlow()
        let emitter = OutputEmitter(
            sink: sink, delivery: .exactlyOnce, emitted: EmittedIDs(store: EmittedOnlyStore(), logger: logger),
            metrics: WorkerMetrics(), logger: logger)
        let (started, starts) = AsyncStream.makeStream(of: Work.self)
        let coordinator = WorkerCoordinator(
            flow: flow, emitter: emitter, maxInFlight: maxInFlight, metrics: WorkerMetrics(), logger: logger,
            start: { starts.yield($0) })
        let loop = Task { try await emitter.run() }
        try await body(Harness(coordinator: coordinator, emitter: emitter, sink: sink, flow: flow, started: started, loop: loop))
        emitter.stop()
        starts.finish()
        try await loop.value
    }

    /// Returns once `condition` holds; fails the test at `deadline`.
    static func poll(until deadline: ContinuousClock.Instant, _ condition: () async -> Bool) async throws {
        while await !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("condition not met by the deadline")
                return
            }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    static func record(_ partition: TopicPartition, _ offset: Int64) -> KafkaRecord {
        KafkaRecord(topic: partition.topic, partition: partition.partition, offset: offset, key: nil, value: Array("{}".utf8))
    }

    static func output(_ id: String) -> WorkOutput {
        .scored(
            ProducerRecord(topic: "out", key: nil, value: Array(id.utf8)),
            claim: ClaimHolding(externalId: id, work: 0, partition: TopicPartition(topic: "in", partition: 0)))
    }

    @Test func aRevocationWaitsForWorkInFlightAndCommitsItsOutputsBeforeReturning() async throws {
        try await Self.withCoordinator { harness in
            await harness.coordinator.assigned([Self.p0])
            await harness.coordinator.accept([Self.record(Self.p0, 0)])
            var iterator = harness.started.makeAsyncIterator()
            let work = try #require(await iterator.next())
            let revoked = Task {
                await harness.coordinator.revoked([Self.p0], lost: false, deadline: .now + .seconds(60))
            }
            // The revocation waits (a minute at most) for the record in flight; finishing it lets the revocation go on.
            try await Self.poll(until: .now + .seconds(10)) { await harness.coordinator.waitingCount == 1 }
            await harness.coordinator.finished(work, output: Self.output("a"))
            await revoked.value
            #expect(harness.sink.recorded.contains(.send(["a"])), "the finished output was committed before the revocation ended")
            #expect(await harness.coordinator.ownedPartitions.isEmpty)
            #expect(await harness.coordinator.inFlightCount == 0)
        }
    }

    @Test func aRevocationAbandonsWhatHasNotFinishedByItsDeadline() async throws {
        try await Self.withCoordinator { harness in
            await harness.coordinator.assigned([Self.p0, Self.p1])
            await harness.coordinator.accept([Self.record(Self.p0, 0), Self.record(Self.p1, 0)])
            var iterator = harness.started.makeAsyncIterator()
            let first = try #require(await iterator.next())
            let second = try #require(await iterator.next())
            let (leaving, staying) = first.record.partition == 0 ? (first, second) : (second, first)
            await harness.coordinator.revoked([Self.p0], lost: false, deadline: .now + .milliseconds(50))
            #expect(await harness.coordinator.inFlightCount == 1)
            #expect(await harness.coordinator.ownedPartitions == [Self.p1])
            // The abandoned work finishing late produces nothing; the other partition's does.
            await harness.coordinator.finished(leaving, output: Self.output("late"))
            await harness.coordinator.finished(staying, output: Self.output("b"))
            await harness.emitter.flush()
            #expect(harness.sink.recorded.contains(.send(["b"])))
            #expect(!harness.sink.recorded.contains(.send(["late"])))
        }
    }

    // The deadline is an hour and the time limit a minute: a lost revocation that waited would fail the test.
    @Test(.timeLimit(.minutes(1))) func aLostPartitionIsAbandonedWithoutWaiting() async throws {
        try await Self.withCoordinator { harness in
            await harness.coordinator.assigned([Self.p0])
            await harness.coordinator.accept([Self.record(Self.p0, 0)])
            await harness.coordinator.revoked([Self.p0], lost: true, deadline: .now + .seconds(3600))
            #expect(await harness.coordinator.inFlightCount == 0)
        }
    }

    @Test func aDrainReturnsOnceTheWorkInFlightHasFinished() async throws {
        try await Self.withCoordinator(maxInFlight: 1) { harness in
            await harness.coordinator.assigned([Self.p0])
            await harness.coordinator.accept([Self.record(Self.p0, 0), Self.record(Self.p0, 1)])
            var iterator = harness.started.makeAsyncIterator()
            let work = try #require(await iterator.next())
            let drained = Task { await harness.coordinator.drain(until: .now + .seconds(60)) }
            // The drain has begun once fetching is paused (it pauses first, then waits).
            try await Self.poll(until: .now + .seconds(10)) { harness.flow.pausedNow }
            await harness.coordinator.finished(work, output: Self.output("a"))
            #expect(await drained.value)
            #expect(harness.flow.pausedNow, "fetching stays paused while draining")
            // The record waiting for a slot was dropped, not started.
            #expect(await harness.coordinator.inFlightCount == 0)
        }
    }

    @Test func aDrainPastItsDeadlineSaysSo() async throws {
        try await Self.withCoordinator { harness in
            await harness.coordinator.assigned([Self.p0])
            await harness.coordinator.accept([Self.record(Self.p0, 0)])
            #expect(await harness.coordinator.drain(until: .now + .milliseconds(20)) == false)
        }
    }

    @Test func aProviderPausePausesEveryOwnedPartition() async throws {
        try await Self.withCoordinator { harness in
            await harness.coordinator.assigned([Self.p0, Self.p1])
            await harness.coordinator.setProvidersPaused(true)
            let paused = harness.flow.calls.withLock { $0.last }
            #expect(paused?.paused == true)
            #expect(Set(paused?.partitions ?? []) == [Self.p0, Self.p1])
            await harness.coordinator.setProvidersPaused(false)
            #expect(!harness.flow.pausedNow)
        }
    }
}
