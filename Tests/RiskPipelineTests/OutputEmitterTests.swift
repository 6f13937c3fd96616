import Foundation
import IdempotencyStore
import Kafka
import Logging
import RiskPolicy
import Synchronization
import Testing
@testable import RiskPipeline

/// A sink that records what the emitter does and fails where a test says: the emitter without a broker.
final class RecordingSink: OutputSink {
    /// One call the emitter made.
    enum Call: Equatable {
        case begin, send([String]), offsets([TopicPartitionOffset]), commit, abort, commitOffsets([TopicPartitionOffset])
    }

    struct Script {
        /// Errors the next commits throw, in order.
        var commitErrors: [KafkaError] = []
        /// A delivery failure for every record of the next send.
        var sendFailure: KafkaError?
    }

    let calls = Mutex<[Call]>([])
    let script: Mutex<Script>

    init(_ script: Script = Script()) {
        self.script = Mutex(script)
    }

    var recorded: [Call] { calls.withLock { $0 } }

    func beginTransaction() throws { calls.withLock { $0.append(.begin) } }

    func send(_ records: [ProducerRecord]) async throws -> [Result<DeliveryReport, KafkaError>] {
        calls.withLock { $0.append(.send(records.map { String(decoding: $0.value ?? [], as: UTF8.self) })) }
        let failure = script.withLock { script -> KafkaError? in
            defer { script.sendFailure = nil }
            return script.sendFailure
        }
        return records.enumerated().map { index, record in
            if let failure { return .failure(failure) }
            return .success(DeliveryReport(topic: record.topic, partition: 0, offset: Int64(index)))
        }
    }

    func sendOffsetsToTransaction(_ offsets: [TopicPartitionOffset]) async throws {
        calls.withLock { $0.append(.offsets(offsets.sorted { $0.topicPartition.partition < $1.topicPartition.partition })) }
    }

    func commitTransaction() async throws {
        calls.withLock { $0.append(.commit) }
        let error = script.withLock { $0.commitErrors.isEmpty ? nil : $0.commitErrors.removeFirst() }
        if let error { throw error }
    }

    func abortTransaction() async throws { calls.withLock { $0.append(.abort) } }

    func commitOffsets(_ offsets: [TopicPartitionOffset]) async throws {
        calls.withLock { $0.append(.commitOffsets(offsets.sorted { $0.topicPartition.partition < $1.topicPartition.partition })) }
    }
}

/// An idempotency store keeping only the externalIds marked emitted.
final class EmittedOnlyStore: IdempotencyStore {
    let marked = Mutex<[String]>([])

    func lookup(externalId: String) async throws -> StoredScoring? { nil }
    func lookup(externalIds: [String]) async throws -> [String: StoredScoring] { [:] }
    func save(_ results: [ProviderResults]) async throws {}
    func markEmitted(externalIds: [String]) async throws { marked.withLock { $0 += externalIds } }
    func claim(_ requests: [ClaimRequest], owner: String, lease: Duration) async throws -> [String: StoredScoring] { [:] }
    func takeOver(_ request: ClaimRequest, from previous: StoredScoring, owner: String, lease: Duration) async throws -> StoredScoring? { nil }
    func renewClaims(externalIds: [String], owner: String, lease: Duration) async throws -> Set<String> { [] }
    func releaseClaims(externalIds: [String], owner: String) async throws {}
    func markDeadLettered(externalIds: [String]) async throws {}
    func cachedNumberScoring(msisdns: [String], fetchedAfter: Date) async throws -> [String: CachedNumberScoring] { [:] }
    func saveCachedNumberScoring(_ records: [CachedNumberScoring]) async throws {}
    func purgeExpired(olderThan cutoff: Date) async throws -> Int { 0 }
    func close() async throws {}
}

@Suite struct OutputEmitterTests {
    static let p0 = TopicPartition(topic: "in", partition: 0)
    static let p1 = TopicPartition(topic: "in", partition: 1)

    static func scored(_ id: String) -> WorkOutput {
        .scored(
            ProducerRecord(topic: "out", key: nil, value: Array(id.utf8)),
            claim: ClaimHolding(externalId: id, work: 0, partition: TopicPartition(topic: "in", partition: 0)))
    }

    static func deadLetter(_ text: String) -> WorkOutput {
        .deadLetter(ProducerRecord(topic: "dlq", key: nil, value: Array(text.utf8)), source: .validation, code: "invalid-json", claim: nil)
    }

    static func retriable(_ message: String) -> KafkaError {
        KafkaError(code: -185, message: message, isRetriable: true)
    }

    /// Runs `body` with an emitter over `sink` whose loop runs meanwhile; returns what the loop threw.
    static func withEmitter(
        _ sink: RecordingSink,
        delivery: Delivery = .exactlyOnce,
        store: EmittedOnlyStore = EmittedOnlyStore(),
        _ body: (OutputEmitter) async throws -> Void
    ) async throws -> (any Error)? {
        let logger = Logger(label: "test")
        let emitter = OutputEmitter(
            sink: sink, delivery: delivery, emitted: EmittedIDs(store: store, logger: logger), metrics: WorkerMetrics(),
            logger: logger, commitRetry: RetrySchedule(base: .milliseconds(1), cap: .milliseconds(1), maxAttempts: 3, jitter: .none),
            sleep: { _ in })
        let loop = Task { () -> (any Error)? in
            do {
                try await emitter.run()
                return nil
            } catch {
                return error
            }
        }
        try await body(emitter)
        emitter.stop()
        return await loop.value
    }

    @Test func oneCycleProducesOutputsAndCommitsTheOffsetsInOneTransaction() async throws {
        let sink = RecordingSink()
        let store = EmittedOnlyStore()
        let failure = try await Self.withEmitter(sink, store: store) { emitter in
            emitter.submit(EmitBatch(partition: Self.p0, outputs: [Self.scored("a"), Self.deadLetter("bad")], nextOffset: 2))
            await emitter.flush()
        }
        #expect(failure == nil)
        #expect(sink.recorded == [.begin, .send(["a", "bad"]), .offsets([TopicPartitionOffset(Self.p0, offset: 2)]), .commit])
        #expect(store.marked.withLock { $0 } == ["a"])
    }

    @Test func aScoredEventEmittedBeforeIsDroppedAsADuplicateAndItsOffsetStillCommitted() async throws {
        let sink = RecordingSink()
        let failure = try await Self.withEmitter(sink) { emitter in
            emitter.submit(EmitBatch(partition: Self.p0, outputs: [Self.scored("a"), Self.scored("a")], nextOffset: 2))
            await emitter.flush()
            emitter.submit(EmitBatch(partition: Self.p1, outputs: [Self.scored("a"), .duplicate(claim: nil)], nextOffset: 9))
            await emitter.flush()
        }
        #expect(failure == nil)
        #expect(
            sink.recorded == [
                .begin, .send(["a"]), .offsets([TopicPartitionOffset(Self.p0, offset: 2)]), .commit,
                .begin, .send([]), .offsets([TopicPartitionOffset(Self.p1, offset: 9)]), .commit,
            ])
    }

    @Test func aCommitThatMayBeRetriedIsRetried() async throws {
        let sink = RecordingSink(.init(commitErrors: [Self.retriable("coordinator loading")]))
        let failure = try await Self.withEmitter(sink) { emitter in
            emitter.submit(EmitBatch(partition: Self.p0, outputs: [Self.scored("a")], nextOffset: 1))
            await emitter.flush()
        }
        #expect(failure == nil)
        #expect(sink.recorded.filter { $0 == .commit }.count == 2)
        #expect(!sink.recorded.contains(.abort))
    }

    @Test func aCommitFailingEveryAttemptAbortsTheTransactionAndRestartsTheSession() async throws {
        let errors = Array(repeating: Self.retriable("still loading"), count: 3)
        let sink = RecordingSink(.init(commitErrors: errors))
        let failure = try await Self.withEmitter(sink) { emitter in
            emitter.submit(EmitBatch(partition: Self.p0, outputs: [Self.scored("a")], nextOffset: 1))
            // A failed cycle still ends the flush: the session restarts from the committed offsets.
            await emitter.flush()
        }
        #expect(sink.recorded.filter { $0 == .commit }.count == 3)
        #expect(sink.recorded.last == .abort)
        guard case .restartFromCommitted = failure as? OutputEmitter.Failure else {
            Issue.record("expected restartFromCommitted, got \(String(describing: failure))")
            return
        }
    }

    @Test func aCommitThatRequiresAnAbortIsAbortedAtOnce() async throws {
        let sink = RecordingSink(.init(commitErrors: [KafkaError(code: 48, message: "invalid txn state", requiresTransactionAbort: true)]))
        let store = EmittedOnlyStore()
        let failure = try await Self.withEmitter(sink, store: store) { emitter in
            emitter.submit(EmitBatch(partition: Self.p0, outputs: [Self.scored("a")], nextOffset: 1))
            await emitter.flush()
        }
        #expect(sink.recorded == [.begin, .send(["a"]), .offsets([TopicPartitionOffset(Self.p0, offset: 1)]), .commit, .abort])
        #expect(store.marked.withLock { $0 }.isEmpty, "an aborted cycle marks nothing emitted")
        #expect(failure is OutputEmitter.Failure)
    }

    @Test func aFencedProducerStopsTheWorker() async throws {
        let sink = RecordingSink(.init(commitErrors: [KafkaError(code: 90, message: "fenced", isFatal: true)]))
        let failure = try await Self.withEmitter(sink) { emitter in
            emitter.submit(EmitBatch(partition: Self.p0, outputs: [Self.scored("a")], nextOffset: 1))
            await emitter.flush()
        }
        guard case .fatal = failure as? OutputEmitter.Failure else {
            Issue.record("expected fatal, got \(String(describing: failure))")
            return
        }
    }

    @Test func atLeastOnceCommitsOffsetsAfterTheDeliveryReports() async throws {
        let sink = RecordingSink()
        let failure = try await Self.withEmitter(sink, delivery: .atLeastOnce) { emitter in
            emitter.submit(EmitBatch(partition: Self.p0, outputs: [Self.scored("a")], nextOffset: 4))
            await emitter.flush()
        }
        #expect(failure == nil)
        #expect(sink.recorded == [.send(["a"]), .commitOffsets([TopicPartitionOffset(Self.p0, offset: 4)])])
    }

    @Test func atLeastOnceAFailedDeliveryRestartsWithoutCommitting() async throws {
        let sink = RecordingSink(.init(sendFailure: KafkaError(code: -192, message: "message timed out")))
        let failure = try await Self.withEmitter(sink, delivery: .atLeastOnce) { emitter in
            emitter.submit(EmitBatch(partition: Self.p0, outputs: [Self.scored("a")], nextOffset: 4))
            await emitter.flush()
        }
        #expect(sink.recorded == [.send(["a"])])
        guard case .restartFromCommitted = failure as? OutputEmitter.Failure else {
            Issue.record("expected restartFromCommitted, got \(String(describing: failure))")
            return
        }
    }

    // A flush that stop did not resume would wait forever: the time limit fails it instead.
    @Test(.timeLimit(.minutes(1))) func aFlushReturnsWhenTheEmitterStops() async throws {
        let logger = Logger(label: "test")
        let emitter = OutputEmitter(
            sink: RecordingSink(), delivery: .exactlyOnce, emitted: EmittedIDs(store: EmittedOnlyStore(), logger: logger),
            metrics: WorkerMetrics(), logger: logger)
        // Nobody runs the loop: the flush waits until stop.
        emitter.submit(EmitBatch(partition: Self.p0, outputs: [Self.scored("a")], nextOffset: 1))
        async let flushed: Void = emitter.flush()
        emitter.stop()
        await flushed
    }
}
