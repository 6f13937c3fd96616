import DequeModule
import Kafka
import Logging
import RiskEvents
import RiskPolicy
import Synchronization

/// Produces released outputs and commits the consumed offsets behind them: in exactly-once mode outputs, dead
/// letters and offsets go in one transaction per cycle; in at-least-once mode offsets are committed after the
/// outputs' delivery reports. Then the externalIds emitted are recorded in ``EmittedIDs``, and the claims held by
/// the committed outputs end (``ExternalIdClaims``).
///
/// Batches are submitted synchronously (so each partition's order is kept) and emitted by one loop, ``run()``:
/// whatever arrives while a cycle commits goes in the next cycle. A scored event whose externalId was emitted
/// before (or earlier in the same cycle), or whose claim another instance took over, is dropped and counted as a duplicate.
final class OutputEmitter: Sendable {
    /// Why emitting stopped: the session must restart from the committed offsets, or the worker must stop.
    enum Failure: Error, Sendable, CustomStringConvertible {
        /// A transaction was aborted or a delivery failed: what was not committed must be consumed again.
        case restartFromCommitted(KafkaError)
        /// The producer is fenced or fatally broken (another instance took over this transactional id).
        case fatal(KafkaError)

        /// One line for logs.
        var description: String {
            switch self {
            case .restartFromCommitted(let error): "emitting failed, restarting from the committed offsets: \(error)"
            case .fatal(let error): "the producer cannot go on: \(error)"
            }
        }
    }

    private let sink: any OutputSink
    private let delivery: Delivery
    private let emitted: EmittedIDs
    private let claims: ExternalIdClaims?
    private let metrics: WorkerMetrics
    private let logger: Logger
    private let commitRetry: RetrySchedule
    private let sleep: @Sendable (Duration) async throws -> Void
    private let state = Mutex(EmitterQueue())
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    /// An emitter producing through `sink` (transactional in exactly-once mode), retrying retriable commits by
    /// `commitRetry` and sleeping with `sleep`.
    init(
        sink: any OutputSink,
        delivery: Delivery,
        emitted: EmittedIDs,
        claims: ExternalIdClaims? = nil,
        metrics: WorkerMetrics,
        logger: Logger,
        commitRetry: RetrySchedule = RetryTable.standard.transactionCommits,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.sink = sink
        self.delivery = delivery
        self.emitted = emitted
        self.claims = claims
        self.metrics = metrics
        self.logger = logger
        self.commitRetry = commitRetry
        self.sleep = sleep
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues a partition's released outputs; the next cycle emits them.
    func submit(_ batch: EmitBatch) {
        state.withLock { $0.submit(batch) }
        wake.yield()
    }

    /// Returns once everything submitted before the call is committed (or dropped by a failed cycle), or the
    /// emitter has stopped.
    func flush() async {
        let id = state.withLock { $0.nextFlushID() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let done = state.withLock { $0.flush(id, continuation) }
                if done { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.cancelFlush(id) }?.resume()
        }
    }

    /// Ends ``run()`` after its current cycle.
    func stop() {
        let waiting = state.withLock { $0.stop() }
        for continuation in waiting { continuation.resume() }
        wake.finish()
    }

    /// Emits submitted batches until stopped; throws ``Failure`` when the session cannot go on.
    func run() async throws {
        defer {
            let waiting = state.withLock { $0.stop() }
            for continuation in waiting { continuation.resume() }
        }
        for await _ in wakeups {
            while true {
                let batches = state.withLock { $0.take() }
                if batches.isEmpty { break }
                do {
                    try await emit(batches)
                } catch {
                    for continuation in state.withLock({ $0.completed(batches.count) }) { continuation.resume() }
                    throw error
                }
                for continuation in state.withLock({ $0.completed(batches.count) }) { continuation.resume() }
            }
        }
    }

    /// One cycle: produce, commit, record emitted, count.
    private func emit(_ batches: [EmitBatch]) async throws {
        var records: [ProducerRecord] = []
        var emittedIDs: [String] = []
        var cycleIDs: Set<String> = []
        var duplicates = 0
        var lostClaims = 0
        var deadLetters: [(FailureSource, String)] = []
        var offsets: [TopicPartition: Int64] = [:]
        var finished: [(ClaimHolding, ClaimLedger.Outcome)] = []
        let started = ContinuousClock.now
        for batch in batches {
            for finishedAt in batch.finishedAt { metrics.stage(.emitting, duration: started - finishedAt) }
            for output in batch.outputs {
                switch output {
                case .scored(let record, let claim):
                    // A lost claim: another instance took it over (this one stalled past its lease) and produces it.
                    let lost = claims?.holds(claim.externalId) == false
                    if lost || emitted.contains(claim.externalId) || !cycleIDs.insert(claim.externalId).inserted {
                        duplicates += 1
                        if lost { lostClaims += 1 }
                        finished.append((claim, .none))
                    } else {
                        records.append(record)
                        emittedIDs.append(claim.externalId)
                        finished.append((claim, .emitted))
                    }
                case .deadLetter(let record, let source, let code, let claim):
                    records.append(record)
                    deadLetters.append((source, code))
                    if let claim { finished.append((claim, .deadLettered)) }
                case .duplicate(let claim):
                    duplicates += 1
                    if let claim { finished.append((claim, .none)) }
                }
            }
            offsets[batch.partition] = max(offsets[batch.partition] ?? batch.nextOffset, batch.nextOffset)
        }
        let commitOffsets = offsets.map { TopicPartitionOffset($0.key, offset: $0.value) }
        if lostClaims > 0 {
            logger.warning("scored events whose claims another instance took over are not produced", metadata: ["count": "\(lostClaims)"])
        }

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
        metrics.emitCycle(duration: ContinuousClock.now - started)
        await emitted.record(emittedIDs)
        await claims?.committed(finished)
    }

    private func emitInTransaction(_ records: [ProducerRecord], offsets: [TopicPartitionOffset]) async throws {
        do {
            try sink.beginTransaction()
            let results = try await sink.send(records)
            for result in results {
                if case .failure(let error) = result { throw error }
            }
            try await sink.sendOffsetsToTransaction(offsets)
            try await commitTransaction()
        } catch let error as KafkaError {
            if error.isFatal || error.isFenced { throw Failure.fatal(error) }
            logger.warning("aborting the transaction", metadata: ["error": "\(error)", "records": "\(records.count)"])
            metrics.transaction(committed: false)
            do {
                try await sink.abortTransaction()
            } catch let abortError as KafkaError {
                throw Failure.fatal(abortError)
            }
            throw Failure.restartFromCommitted(error)
        }
    }

    /// Commits, trying again by the commit schedule when librdkafka says the commit itself may be retried.
    private func commitTransaction() async throws {
        var backoff = commitRetry.start()
        while true {
            do {
                try await sink.commitTransaction()
                return
            } catch let error as KafkaError where error.isRetriable && !error.requiresTransactionAbort {
                guard let delay = backoff.nextDelay() else { throw error }
                logger.info("retrying the transaction commit", metadata: ["error": "\(error)", "attempt": "\(backoff.failedAttempts)"])
                try? await sleep(delay)
            }
        }
    }

    private func emitThenCommit(_ records: [ProducerRecord], offsets: [TopicPartitionOffset]) async throws {
        let results: [Result<DeliveryReport, KafkaError>]
        do {
            results = try await sink.send(records)
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
            try await sink.commitOffsets(offsets)
        } catch {
            // The records are delivered; the next owner of these partitions reads them again (at least once).
            logger.warning("could not commit offsets", metadata: ["error": "\(error)"])
        }
    }
}

/// The emitter's queue as a value: batches waiting for the next cycle, and the flushes waiting for cycles to end.
struct EmitterQueue {
    private var queue: Deque<EmitBatch> = []
    private var submitted: UInt64 = 0
    private var completedCount: UInt64 = 0
    private var stopped = false
    private var nextFlush: UInt64 = 0
    /// Flushes waiting, each until `completedCount` reaches its target.
    private var flushes: [UInt64: (target: UInt64, continuation: CheckedContinuation<Void, Never>)] = [:]

    mutating func submit(_ batch: EmitBatch) {
        queue.append(batch)
        submitted += 1
    }

    /// Everything queued, for one cycle.
    mutating func take() -> [EmitBatch] {
        let batches = Array(queue)
        queue.removeAll()
        return batches
    }

    mutating func nextFlushID() -> UInt64 {
        nextFlush += 1
        return nextFlush
    }

    /// Waits `continuation` for what is submitted now; true when it is done already (the caller resumes it).
    mutating func flush(_ id: UInt64, _ continuation: CheckedContinuation<Void, Never>) -> Bool {
        if completedCount >= submitted || stopped { return true }
        flushes[id] = (submitted, continuation)
        return false
    }

    /// A flush whose task was cancelled, if it still waits.
    mutating func cancelFlush(_ id: UInt64) -> CheckedContinuation<Void, Never>? {
        flushes.removeValue(forKey: id)?.continuation
    }

    /// A cycle of `count` batches ended (committed or failed); returns the flushes now done.
    mutating func completed(_ count: Int) -> [CheckedContinuation<Void, Never>] {
        completedCount += UInt64(count)
        let done = flushes.filter { $0.value.target <= completedCount }
        for id in done.keys { flushes.removeValue(forKey: id) }
        return done.values.map(\.continuation)
    }

    /// No cycle runs any more; returns every flush waiting.
    mutating func stop() -> [CheckedContinuation<Void, Never>] {
        stopped = true
        let all = flushes.values.map(\.continuation)
        flushes.removeAll()
        return all
    }
}
