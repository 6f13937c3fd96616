import DequeModule
import IdempotencyStore
import Kafka
import Logging
import RiskEvents
import Synchronization

/// Produces released outputs and commits the consumed offsets behind them: in exactly-once mode outputs, dead
/// letters and offsets go in one transaction per cycle; in at-least-once mode offsets are committed after the
/// outputs' delivery reports. Then the externalIds emitted are marked in the idempotency store.
///
/// Batches are submitted synchronously (so each partition's order is kept) and emitted by one loop, ``run()``:
/// whatever arrives while a cycle commits goes in the next cycle. A scored event whose externalId was emitted
/// before by this process (or earlier in the same cycle) is dropped and counted as a duplicate.
public final class OutputEmitter: Sendable {
    /// Why emitting stopped: the session must restart from the committed offsets, or the worker must stop.
    public enum Failure: Error, Sendable, CustomStringConvertible {
        /// A transaction was aborted or a delivery failed: what was not committed must be consumed again.
        case restartFromCommitted(KafkaError)
        /// The producer is fenced or fatally broken (another instance took over this transactional id).
        case fatal(KafkaError)

        /// One line for logs.
        public var description: String {
            switch self {
            case .restartFromCommitted(let error): "emitting failed, restarting from the committed offsets: \(error)"
            case .fatal(let error): "the producer cannot go on: \(error)"
            }
        }
    }

    private struct State {
        var queue: Deque<EmitBatch> = []
        var submitted: UInt64 = 0
        var completed: UInt64 = 0
        var stopped = false
    }

    private let producer: KafkaProducer
    private let consumer: KafkaConsumer
    private let delivery: Delivery
    private let store: any IdempotencyStore
    private let metrics: WorkerMetrics
    private let logger: Logger
    private let rememberedLimit: Int
    private let state = Mutex(State())
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    /// An emitter producing with `producer` (transactional in exactly-once mode) for `consumer`'s group.
    public init(
        producer: KafkaProducer,
        consumer: KafkaConsumer,
        delivery: Delivery,
        store: any IdempotencyStore,
        metrics: WorkerMetrics,
        logger: Logger,
        rememberedLimit: Int = 100_000
    ) {
        self.producer = producer
        self.consumer = consumer
        self.delivery = delivery
        self.store = store
        self.metrics = metrics
        self.logger = logger
        self.rememberedLimit = rememberedLimit
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues a partition's released outputs; the next cycle emits them.
    public func submit(_ batch: EmitBatch) {
        state.withLock {
            $0.queue.append(batch)
            $0.submitted += 1
        }
        wake.yield()
    }

    /// Returns once everything submitted before the call is committed (or dropped by a failed cycle), or the
    /// emitter has stopped.
    public func flush() async {
        let target = state.withLock { $0.submitted }
        while true {
            let (completed, stopped) = state.withLock { ($0.completed, $0.stopped) }
            if completed >= target || stopped { return }
            try? await Task.sleep(for: .milliseconds(2))
            if Task.isCancelled { return }
        }
    }

    /// Ends ``run()`` after its current cycle.
    public func stop() {
        state.withLock { $0.stopped = true }
        wake.finish()
    }

    /// Emits submitted batches until stopped; throws ``Failure`` when the session cannot go on.
    public func run() async throws {
        defer { state.withLock { $0.stopped = true } }
        var remembered = RememberedIDs(limit: rememberedLimit)
        for await _ in wakeups {
            while true {
                let (batches, count) = state.withLock { state -> ([EmitBatch], UInt64) in
                    let batches = Array(state.queue)
                    state.queue.removeAll()
                    return (batches, UInt64(batches.count))
                }
                if batches.isEmpty { break }
                defer { state.withLock { $0.completed += count } }
                try await emit(batches, remembered: &remembered)
            }
        }
    }

    /// One cycle: produce, commit, mark emitted, count.
    private func emit(_ batches: [EmitBatch], remembered: inout RememberedIDs) async throws {
        var records: [ProducerRecord] = []
        var emittedIDs: [String] = []
        var cycleIDs: Set<String> = []
        var duplicates = 0
        var deadLetters: [(ErrorSource, String)] = []
        var offsets: [TopicPartition: Int64] = [:]
        for batch in batches {
            for output in batch.outputs {
                switch output {
                case .scored(let record, let externalId):
                    if remembered.contains(externalId) || !cycleIDs.insert(externalId).inserted {
                        duplicates += 1
                    } else {
                        records.append(record)
                        emittedIDs.append(externalId)
                    }
                case .deadLetter(let record, let source, let code):
                    records.append(record)
                    deadLetters.append((source, code))
                case .duplicate:
                    duplicates += 1
                }
            }
            offsets[batch.partition] = max(offsets[batch.partition] ?? batch.nextOffset, batch.nextOffset)
        }
        let commitOffsets = offsets.map { TopicPartitionOffset($0.key, offset: $0.value) }

        switch delivery {
        case .exactlyOnce:
            try await emitInTransaction(records, offsets: commitOffsets)
        case .atLeastOnce:
            try await emitThenCommit(records, offsets: commitOffsets)
        }

        metrics.scored.increment(by: emittedIDs.count)
        metrics.duplicates.increment(by: duplicates)
        for (source, code) in deadLetters { metrics.deadLettered(source: source, code: code) }
        metrics.transaction(committed: true)
        for id in emittedIDs { remembered.insert(id) }
        if !emittedIDs.isEmpty {
            do {
                try await store.markEmitted(externalIds: emittedIDs)
            } catch {
                // Not fatal: the offsets are committed, so these records are not read again; a later duplicate
                // of one of these externalIds would be produced again from the stored results (no paid call).
                logger.warning("could not mark scored events as emitted", metadata: ["error": "\(error)", "count": "\(emittedIDs.count)"])
            }
        }
    }

    private func emitInTransaction(_ records: [ProducerRecord], offsets: [TopicPartitionOffset]) async throws {
        do {
            try producer.beginTransaction()
            let results = try await producer.send(records)
            for result in results {
                if case .failure(let error) = result { throw error }
            }
            try await producer.sendOffsetsToTransaction(offsets, groupMetadata: try consumer.groupMetadata())
            try await commitTransaction()
        } catch let error as KafkaError {
            if error.isFatal || error.isFenced { throw Failure.fatal(error) }
            logger.warning("aborting the transaction", metadata: ["error": "\(error)", "records": "\(records.count)"])
            metrics.transaction(committed: false)
            do {
                try await producer.abortTransaction()
            } catch let abortError as KafkaError {
                throw Failure.fatal(abortError)
            }
            throw Failure.restartFromCommitted(error)
        }
    }

    /// Commits, trying again when librdkafka says the commit itself may be retried.
    private func commitTransaction() async throws {
        var attempt = 0
        while true {
            attempt += 1
            do {
                try await producer.commitTransaction()
                return
            } catch let error as KafkaError where error.isRetriable && !error.requiresTransactionAbort && attempt < 5 {
                logger.info("retrying the transaction commit", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
            }
        }
    }

    private func emitThenCommit(_ records: [ProducerRecord], offsets: [TopicPartitionOffset]) async throws {
        let results: [Result<DeliveryReport, KafkaError>]
        do {
            results = try await producer.send(records)
        } catch let error as KafkaError {
            throw Failure.fatal(error)
        }
        for result in results {
            if case .failure(let error) = result {
                metrics.transaction(committed: false)
                throw error.isFatal ? Failure.fatal(error) : Failure.restartFromCommitted(error)
            }
        }
        do {
            try await consumer.commit(offsets)
        } catch {
            // The records are delivered; the next owner of these partitions reads them again (at least once).
            logger.warning("could not commit offsets", metadata: ["error": "\(error)"])
        }
    }
}

/// The externalIds this process emitted most recently, oldest forgotten first.
struct RememberedIDs {
    private var order: Deque<String> = []
    private var members: Set<String> = []
    let limit: Int

    init(limit: Int) {
        self.limit = max(limit, 1)
    }

    func contains(_ id: String) -> Bool { members.contains(id) }

    mutating func insert(_ id: String) {
        guard members.insert(id).inserted else { return }
        order.append(id)
        if order.count > limit, let oldest = order.popFirst() { members.remove(oldest) }
    }
}
