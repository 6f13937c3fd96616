import Kafka
import Logging

/// The consumer as the coordinator uses it: fetching paused and resumed per partition.
protocol PartitionFlow: Sendable {
    /// Stops fetching from `partitions` (the consumer keeps serving the group).
    func pause(_ partitions: [TopicPartition]) throws
    /// Fetches from `partitions` again.
    func resume(_ partitions: [TopicPartition]) throws
}

extension KafkaConsumer: PartitionFlow {}

/// Drives a ``CoordinatorState``: each input goes to the state, and the actions it returns are performed here —
/// work handed to `start`, released outputs to the emitter, fetching paused and resumed. Revocation and shutdown
/// wait, on continuations, until the work they wait for has finished or their deadline has passed.
actor WorkerCoordinator {
    /// What a waiting revocation or shutdown waits for.
    private enum Awaited {
        /// No record of these partitions in flight.
        case partitionsIdle([TopicPartition])
        /// Nothing in flight at all.
        case idle
    }

    private struct Waiter {
        let awaited: Awaited
        let continuation: CheckedContinuation<Void, Never>
    }

    private var state: CoordinatorState
    private let flow: any PartitionFlow
    private let emitter: OutputEmitter
    private let metrics: WorkerMetrics
    private let logger: Logger
    private let start: @Sendable (Work) -> Void
    private let discarded: @Sendable (ClaimHolding) -> Void
    private var waiters: [UInt64: Waiter] = [:]
    private var nextWaiter: UInt64 = 0

    /// A coordinator feeding `start` with at most `maxInFlight` unfinished records at once and `emitter` with their
    /// outputs, pausing and resuming `flow`; see ``CoordinatorState`` for the bounds.
    init(
        flow: any PartitionFlow,
        emitter: OutputEmitter,
        maxInFlight: Int,
        unreleasedFactor: Int = 8,
        metrics: WorkerMetrics,
        logger: Logger,
        start: @escaping @Sendable (Work) -> Void,
        discarded: @escaping @Sendable (ClaimHolding) -> Void = { _ in }
    ) {
        self.state = CoordinatorState(maxInFlight: maxInFlight, unreleasedFactor: unreleasedFactor)
        self.flow = flow
        self.emitter = emitter
        self.metrics = metrics
        self.logger = logger
        self.start = start
        self.discarded = discarded
    }

    /// Records in flight: started, or waiting for an earlier record with the same key, and not finished.
    var inFlightCount: Int { state.inFlight }
    /// Finished records whose outputs wait for an earlier record of their partition.
    var unreleasedCount: Int { state.unreleased }
    /// The partitions owned.
    var ownedPartitions: [TopicPartition] { state.ownedPartitions }
    /// Revocations and drains waiting for work to finish.
    var waitingCount: Int { waiters.count }

    /// Takes records from the consumer: they start as slots free up; the consumer pauses while many of them wait
    /// (see ``Backpressure``).
    func accept(_ records: [KafkaRecord]) {
        metrics.consumed.increment(by: records.count)
        perform(state.accept(records))
        metrics.inFlight.record(state.inFlight)
    }

    /// New partitions: they start from their committed offsets (the consumer's job), with fresh sequencers.
    func assigned(_ assigned: [TopicPartition]) {
        perform(state.assigned(assigned))
        logger.info("partitions assigned", metadata: ["partitions": "\(describe(assigned))"])
    }

    /// Partitions leaving: unless lost, their work in flight gets until `deadline` to finish; their released
    /// outputs are committed; what is still unfinished is abandoned uncommitted (the next owner reads it again).
    func revoked(_ revoked: [TopicPartition], lost: Bool, deadline: ContinuousClock.Instant) async {
        let owned = state.revoking(revoked)
        if !lost { await wait(for: .partitionsIdle(owned), until: deadline) }
        let (revocation, actions) = state.revoked(owned)
        perform(actions)
        metrics.inFlight.record(state.inFlight)
        await emitter.flush()
        logger.info(
            "partitions revoked",
            metadata: ["partitions": "\(describe(revoked))", "lost": "\(lost)", "abandoned": "\(revocation.abandoned)"]
        )
    }

    /// A record's work is done: release what its partition's order allows, start what waited for it.
    func finished(_ work: Work, output: WorkOutput, at finishedAt: ContinuousClock.Instant = .now) {
        perform(state.finished(work, output: output, at: finishedAt))
        metrics.inFlight.record(state.inFlight)
        resumeWaitersDone()
    }

    /// Pauses (or resumes) consumption while a provider cannot be called.
    func setProvidersPaused(_ paused: Bool) {
        perform(state.setProvidersPaused(paused))
    }

    /// Stops taking new records (shutdown), then waits until nothing is in flight or `deadline`; returns whether
    /// everything finished.
    func drain(until deadline: ContinuousClock.Instant) async -> Bool {
        perform(state.drain())
        await wait(for: .idle, until: deadline)
        return state.isIdle
    }

    private func perform(_ actions: [CoordinatorState.Action]) {
        for action in actions {
            switch action {
            case .start(let work):
                start(work)
            case .submit(let batch):
                emitter.submit(batch)
            case .pause(let partitions):
                setFetching(partitions, paused: true)
            case .resume(let partitions):
                setFetching(partitions, paused: false)
            case .refused(let rejection):
                logger.warning("skipping a record its partition's sequencer refused", metadata: ["error": "\(rejection)"])
            case .discarded(let claim):
                discarded(claim)
            }
        }
    }

    private func setFetching(_ partitions: [TopicPartition], paused: Bool) {
        do {
            if paused { try flow.pause(partitions) } else { try flow.resume(partitions) }
        } catch {
            logger.warning("could not \(paused ? "pause" : "resume") partitions", metadata: ["error": "\(error)"])
        }
    }

    /// Returns when `awaited` holds or at `deadline`, whichever comes first (or when the task is cancelled).
    private func wait(for awaited: Awaited, until deadline: ContinuousClock.Instant) async {
        guard !holds(awaited) else { return }
        nextWaiter += 1
        let id = nextWaiter
        let timer = Task { [weak self] in
            try? await Task.sleep(until: deadline, clock: .continuous)
            await self?.resumeWaiter(id)
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                waiters[id] = Waiter(awaited: awaited, continuation: continuation)
            }
        } onCancel: {
            Task { await self.resumeWaiter(id) }
        }
        timer.cancel()
    }

    private func holds(_ awaited: Awaited) -> Bool {
        switch awaited {
        case .partitionsIdle(let partitions): state.areIdle(partitions)
        case .idle: state.isIdle
        }
    }

    private func resumeWaiter(_ id: UInt64) {
        waiters.removeValue(forKey: id)?.continuation.resume()
    }

    private func resumeWaitersDone() {
        guard !waiters.isEmpty else { return }
        for (id, waiter) in waiters where holds(waiter.awaited) {
            waiters.removeValue(forKey: id)
            waiter.continuation.resume()
        }
    }

    private func describe(_ list: [TopicPartition]) -> String {
        list.map { "\($0.topic)[\($0.partition)]" }.sorted().joined(separator: ",")
    }
}
