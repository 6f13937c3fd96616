import DequeModule
import Kafka
import Logging

/// One unit of work: an input record, tagged with its partition sequencer's generation.
public struct Work: Sendable {
    /// The input record.
    public var record: KafkaRecord
    /// The sequencer generation it was enqueued in (a later generation means it was abandoned).
    public var generation: UInt64
    /// A number unique within the process, naming the work (the account-level pause's prober).
    public var id: UInt64
}

/// The worker's bookkeeping, in one actor: the partitions owned and their sequencers, records waiting for an
/// in-flight slot, the in-flight count, finished outputs waiting for an earlier record of their partition, and
/// whether the consumer is paused (backpressure, account-level pause, shutdown). Records come in through
/// ``accept(_:)``, leave as ``Work`` through `start`, come back through ``finished(_:output:)`` and leave again, in
/// partition order, to the emitter.
public actor WorkerCoordinator {
    private struct Partition {
        var sequencer = PartitionSequencer<WorkOutput>()
        /// Work enqueued but waiting for an earlier record with the same key, by offset.
        var waiting: [Int64: Work] = [:]
    }

    private let consumer: KafkaConsumer
    private let emitter: OutputEmitter
    private let maxInFlight: Int
    private let maxUnreleased: Int
    private let backpressure: Backpressure
    private let metrics: WorkerMetrics
    private let logger: Logger
    private let start: @Sendable (Work) -> Void
    private var partitions: [TopicPartition: Partition] = [:]
    private var backlog: Deque<KafkaRecord> = []
    private var inFlight = 0
    private var unreleased = 0
    private var nextID: UInt64 = 0
    private var accountPaused = false
    private var draining = false
    private var consumerPaused = false

    /// A coordinator feeding `start` with at most `maxInFlight` unfinished records at once and `emitter` with their
    /// outputs. Finished outputs held back for an earlier record of their partition are bounded separately
    /// (`unreleasedFactor` × `maxInFlight`), so one slow event does not shrink the work in progress behind it.
    public init(
        consumer: KafkaConsumer,
        emitter: OutputEmitter,
        maxInFlight: Int,
        unreleasedFactor: Int = 8,
        metrics: WorkerMetrics,
        logger: Logger,
        start: @escaping @Sendable (Work) -> Void
    ) {
        self.consumer = consumer
        self.emitter = emitter
        self.maxInFlight = max(1, maxInFlight)
        self.maxUnreleased = max(1, maxInFlight) * max(1, unreleasedFactor)
        self.backpressure = Backpressure(maxInFlight: maxInFlight)
        self.metrics = metrics
        self.logger = logger
        self.start = start
    }

    /// Records in flight: started, or waiting for an earlier record with the same key, and not finished.
    public var inFlightCount: Int { inFlight }
    /// Finished records whose outputs wait for an earlier record of their partition.
    public var unreleasedCount: Int { unreleased }
    /// The partitions owned.
    public var ownedPartitions: [TopicPartition] { Array(partitions.keys) }

    /// Takes records from the consumer: they start as slots free up; the consumer pauses while many of them wait
    /// (see ``Backpressure``).
    public func accept(_ records: [KafkaRecord]) {
        metrics.consumed.increment(by: records.count)
        for record in records where partitions[record.topicPartition] != nil {
            backlog.append(record)
        }
        fill()
    }

    /// New partitions: they start from their committed offsets (the consumer's job), with fresh sequencers.
    public func assigned(_ assigned: [TopicPartition]) {
        for partition in assigned where partitions[partition] == nil {
            partitions[partition] = Partition()
        }
        if consumerPaused { pauseConsumer(assigned, pause: true) }
        logger.info("partitions assigned", metadata: ["partitions": "\(describe(assigned))"])
    }

    /// Partitions leaving: unless lost, their work in flight gets until `deadline` to finish; their released
    /// outputs are committed; what is still unfinished is abandoned uncommitted (the next owner reads it again).
    public func revoked(_ revoked: [TopicPartition], lost: Bool, deadline: ContinuousClock.Instant) async {
        let owned = revoked.filter { partitions[$0] != nil }
        let leaving = Set(owned)
        // Records not started yet stay unstarted: the next owner reads them again.
        backlog.removeAll { leaving.contains($0.topicPartition) }
        if !lost {
            while ContinuousClock.now < deadline, owned.contains(where: { partitions[$0].map { !$0.sequencer.isIdle } ?? false }) {
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        var abandoned = 0
        for partition in owned {
            if var state = partitions.removeValue(forKey: partition) {
                let dropped = state.sequencer.abandon()
                abandoned += dropped.count
                inFlight -= dropped.waiting.count + dropped.running.count
                unreleased -= dropped.finished.count
            }
        }
        metrics.inFlight.record(inFlight)
        await emitter.flush()
        logger.info(
            "partitions revoked",
            metadata: ["partitions": "\(describe(revoked))", "lost": "\(lost)", "abandoned": "\(abandoned)"]
        )
        fill()
    }

    /// A record's work is done: release what its partition's order allows, start what waited for it.
    public func finished(_ work: Work, output: WorkOutput) {
        guard let startable = release(work, output: output) else { return }
        for next in startable { start(next) }
        fill()
    }

    /// Records `work`'s output in its partition's sequencer and hands released outputs to the emitter; returns the
    /// work now startable, or nil when `work` was abandoned. A function of its own so that the partition state taken
    /// out of the dictionary is gone before `fill` takes it again (a second reference would copy the sequencer).
    private func release(_ work: Work, output: WorkOutput) -> [Work]? {
        let partition = work.record.topicPartition
        // Taken out of the dictionary while it changes, so that its sequencer's storage is not copied.
        guard var state = partitions.removeValue(forKey: partition) else { return nil }
        let completion: PartitionSequencer<WorkOutput>.Completion?
        if state.sequencer.generation == work.generation {
            do {
                completion = try state.sequencer.finish(offset: work.record.offset, output: output, generation: work.generation)
            } catch {
                logger.error("sequencer refused a finished record", metadata: ["error": "\(error)"])
                completion = nil
            }
        } else {
            completion = nil
        }
        var startable: [Work] = []
        if let completion {
            inFlight -= 1
            unreleased += 1
            startable = completion.startable.compactMap { state.waiting.removeValue(forKey: $0) }
            if !completion.ready.isEmpty, let nextOffset = state.sequencer.committableOffset {
                unreleased -= completion.ready.count
                emitter.submit(EmitBatch(partition: partition, outputs: completion.ready.map(\.output), nextOffset: nextOffset))
            }
        }
        partitions[partition] = state
        return completion == nil ? nil : startable
    }

    /// Pauses (or resumes) consumption for an account-level provider failure.
    public func setAccountPaused(_ paused: Bool) {
        accountPaused = paused
        updatePause()
    }

    /// Stops taking new records (shutdown), then waits until nothing is in flight or `deadline`; returns whether
    /// everything finished.
    public func drain(until deadline: ContinuousClock.Instant) async -> Bool {
        draining = true
        backlog.removeAll()
        updatePause()
        while inFlight > 0 || unreleased > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        return inFlight == 0 && unreleased == 0
    }

    /// Starts backlog records while there are free slots, then pauses or resumes the consumer to match.
    private func fill() {
        while inFlight < maxInFlight, unreleased < maxUnreleased, !draining, let record = backlog.popFirst() {
            let partition = record.topicPartition
            guard var state = partitions.removeValue(forKey: partition) else { continue }
            defer { partitions[partition] = state }
            let startable: Bool
            do {
                startable = try state.sequencer.enqueue(offset: record.offset, key: record.key)
            } catch {
                logger.warning("skipping a record delivered out of order", metadata: ["error": "\(error)"])
                continue
            }
            inFlight += 1
            nextID += 1
            let work = Work(record: record, generation: state.sequencer.generation, id: nextID)
            if startable {
                start(work)
            } else {
                state.waiting[record.offset] = work
            }
        }
        metrics.inFlight.record(inFlight)
        updatePause()
    }

    private func updatePause() {
        let pause = backpressure.pauses(waiting: backlog.count, pausedNow: consumerPaused) || accountPaused || draining
        guard pause != consumerPaused else { return }
        consumerPaused = pause
        pauseConsumer(Array(partitions.keys), pause: pause)
    }

    private func pauseConsumer(_ list: [TopicPartition], pause: Bool) {
        guard !list.isEmpty else { return }
        do {
            if pause { try consumer.pause(list) } else { try consumer.resume(list) }
        } catch {
            logger.warning("could not \(pause ? "pause" : "resume") partitions", metadata: ["error": "\(error)"])
        }
    }

    private func describe(_ list: [TopicPartition]) -> String {
        list.map { "\($0.topic)[\($0.partition)]" }.sorted().joined(separator: ",")
    }
}
