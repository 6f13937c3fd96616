import DequeModule
import Kafka

/// One unit of work: an input record, tagged with its partition sequencer's generation.
struct Work: Sendable {
    /// The input record.
    var record: KafkaRecord
    /// The sequencer generation it was enqueued in (a later generation means it was abandoned).
    var generation: UInt64
    /// A number unique within the process, naming the work (the provider pause's prober).
    var id: UInt64
}

/// The worker's bookkeeping as a value: the partitions owned and their sequencers, records waiting for an in-flight
/// slot, the in-flight count, finished outputs waiting for an earlier record of their partition, and whether the
/// consumer should be paused (backpressure, a provider pause, shutdown).
///
/// Each input returns the actions it calls for, in order; ``WorkerCoordinator`` performs them. Records come in
/// through ``accept(_:)``, leave as ``Action/start(_:)``, come back through ``finished(_:output:at:)`` and leave again,
/// in partition order, as ``Action/submit(_:)``.
struct CoordinatorState {
    /// What the coordinator must do.
    enum Action: Sendable {
        /// Start this work.
        case start(Work)
        /// Hand these released outputs to the emitter.
        case submit(EmitBatch)
        /// Stop fetching from these partitions.
        case pause([TopicPartition])
        /// Fetch from these partitions again.
        case resume([TopicPartition])
        /// A record's sequencer refused it (delivered out of order, or finished twice): worth a warning, nothing more.
        case refused(PartitionSequencer<FinishedOutput>.Rejection)
        /// A finished record's output was dropped (its work was abandoned): the claim it holds must end.
        case discarded(ClaimHolding)
    }

    /// What leaving partitions came to: how many of their records were dropped unfinished.
    struct Revocation: Sendable, Equatable {
        /// The leaving partitions this worker owned.
        var partitions: [TopicPartition]
        /// Records enqueued and not released when the partitions left (the next owner reads them again).
        var abandoned: Int
    }

    private struct Partition {
        var sequencer: PartitionSequencer<FinishedOutput>
        /// Work enqueued but waiting for an earlier record with the same key, by offset.
        var waiting: [Int64: Work] = [:]
    }

    /// Unfinished records at once, at most.
    let maxInFlight: Int
    /// Finished outputs held back for an earlier record of their partition, at most.
    let maxUnreleased: Int
    private let backpressure: Backpressure
    private var partitions: [TopicPartition: Partition] = [:]
    private var backlog: Deque<KafkaRecord> = []
    /// Records in flight: started, or waiting for an earlier record with the same key, and not finished.
    private(set) var inFlight = 0
    /// Finished records whose outputs wait for an earlier record of their partition.
    private(set) var unreleased = 0
    private var nextID: UInt64 = 0
    /// The first generation of the next partition assigned: unique across assignments, so that work abandoned by a
    /// revocation never passes for work of the same partition assigned again.
    private var nextGeneration: UInt64 = 0
    private var providersPaused = false
    /// Whether shutdown has begun: no record starts any more.
    private(set) var draining = false
    /// Whether the consumer is paused now.
    private(set) var consumerPaused = false

    /// A state starting at most `maxInFlight` unfinished records at once; finished outputs held back for an earlier
    /// record of their partition are bounded separately (`unreleasedFactor` × `maxInFlight`), so one slow event does
    /// not shrink the work in progress behind it.
    init(maxInFlight: Int, unreleasedFactor: Int = 8) {
        self.maxInFlight = max(1, maxInFlight)
        self.maxUnreleased = max(1, maxInFlight) * max(1, unreleasedFactor)
        self.backpressure = Backpressure(maxInFlight: maxInFlight)
    }

    /// The partitions owned.
    var ownedPartitions: [TopicPartition] { Array(partitions.keys) }
    /// Records taken from the consumer that wait for an in-flight slot.
    var backlogCount: Int { backlog.count }
    /// Whether nothing is in flight and no finished output waits.
    var isIdle: Bool { inFlight == 0 && unreleased == 0 }

    /// Whether none of `partitions` has a record in flight.
    func areIdle(_ partitions: [TopicPartition]) -> Bool {
        partitions.allSatisfy { self.partitions[$0]?.sequencer.isIdle ?? true }
    }

    /// Records taken from the consumer (those of partitions not owned are dropped): they start as slots free up.
    mutating func accept(_ records: [KafkaRecord]) -> [Action] {
        for record in records where partitions[record.topicPartition] != nil {
            backlog.append(record)
        }
        var actions: [Action] = []
        fill(&actions)
        return actions
    }

    /// New partitions, with fresh sequencers; paused at once while the consumer is paused.
    mutating func assigned(_ assigned: [TopicPartition]) -> [Action] {
        for partition in assigned where partitions[partition] == nil {
            nextGeneration += 1
            partitions[partition] = Partition(sequencer: PartitionSequencer(generation: nextGeneration))
        }
        return consumerPaused && !assigned.isEmpty ? [.pause(assigned)] : []
    }

    /// Partitions start leaving: their records not started yet are dropped (the next owner reads them again); returns
    /// the ones owned, whose work in flight may still finish until ``revoked(_:)``.
    mutating func revoking(_ revoked: [TopicPartition]) -> [TopicPartition] {
        let owned = revoked.filter { partitions[$0] != nil }
        let leaving = Set(owned)
        backlog.removeAll { leaving.contains($0.topicPartition) }
        return owned
    }

    /// Partitions are gone: what is still unfinished is abandoned uncommitted; freed slots start other work.
    mutating func revoked(_ owned: [TopicPartition]) -> (Revocation, [Action]) {
        var abandoned = 0
        for partition in owned {
            guard var state = partitions.removeValue(forKey: partition) else { continue }
            let dropped = state.sequencer.abandon()
            abandoned += dropped.count
            inFlight -= dropped.waiting.count + dropped.running.count
            unreleased -= dropped.finished.count
        }
        var actions: [Action] = []
        fill(&actions)
        return (Revocation(partitions: owned, abandoned: abandoned), actions)
    }

    /// A record's work is done: releases what its partition's order allows and starts what waited for it. Work of
    /// an abandoned generation, or of a partition no longer owned, is ignored.
    mutating func finished(_ work: Work, output: WorkOutput, at finishedAt: ContinuousClock.Instant = .now) -> [Action] {
        var actions: [Action] = []
        guard release(work, output: FinishedOutput(output: output, finishedAt: finishedAt), into: &actions) else {
            if let claim = output.claim { actions.append(.discarded(claim)) }
            return actions
        }
        fill(&actions)
        return actions
    }

    /// Pauses (or resumes) consumption while a provider cannot be called.
    mutating func setProvidersPaused(_ paused: Bool) -> [Action] {
        providersPaused = paused
        var actions: [Action] = []
        updatePause(&actions)
        return actions
    }

    /// Shutdown: records not started are dropped and no more start; the work in flight may still finish.
    mutating func drain() -> [Action] {
        draining = true
        backlog.removeAll()
        var actions: [Action] = []
        updatePause(&actions)
        return actions
    }

    /// Records `work`'s output in its partition's sequencer and appends the released outputs and the work now
    /// startable; false when `work` was abandoned. The partition state is taken out of the dictionary while it
    /// changes and put back before `fill` takes it again, so that its sequencer's storage is never copied.
    private mutating func release(_ work: Work, output: FinishedOutput, into actions: inout [Action]) -> Bool {
        let partition = work.record.topicPartition
        guard var state = partitions.removeValue(forKey: partition) else { return false }
        defer { partitions[partition] = state }
        guard state.sequencer.generation == work.generation else { return false }
        let completion: PartitionSequencer<FinishedOutput>.Completion
        do {
            completion = try state.sequencer.finish(offset: work.record.offset, output: output, generation: work.generation)
        } catch {
            actions.append(.refused(error))
            return false
        }
        inFlight -= 1
        unreleased += 1
        for offset in completion.startable {
            if let next = state.waiting.removeValue(forKey: offset) { actions.append(.start(next)) }
        }
        if !completion.ready.isEmpty, let nextOffset = state.sequencer.committableOffset {
            unreleased -= completion.ready.count
            actions.append(
                .submit(
                    EmitBatch(
                        partition: partition, outputs: completion.ready.map(\.output.output),
                        finishedAt: completion.ready.map(\.output.finishedAt), nextOffset: nextOffset)))
        }
        return true
    }

    /// Starts backlog records while there are free slots, then pauses or resumes the consumer to match.
    private mutating func fill(_ actions: inout [Action]) {
        while inFlight < maxInFlight, unreleased < maxUnreleased, !draining, let record = backlog.popFirst() {
            let partition = record.topicPartition
            guard var state = partitions.removeValue(forKey: partition) else { continue }
            defer { partitions[partition] = state }
            let startable: Bool
            do {
                startable = try state.sequencer.enqueue(offset: record.offset, key: record.key)
            } catch {
                // An offset that does not increase (a redelivery the consumer should not make) is skipped.
                actions.append(.refused(error))
                continue
            }
            inFlight += 1
            nextID += 1
            let work = Work(record: record, generation: state.sequencer.generation, id: nextID)
            if startable {
                actions.append(.start(work))
            } else {
                state.waiting[record.offset] = work
            }
        }
        updatePause(&actions)
    }

    private mutating func updatePause(_ actions: inout [Action]) {
        let pause = backpressure.pauses(waiting: backlog.count, pausedNow: consumerPaused) || providersPaused || draining
        guard pause != consumerPaused else { return }
        consumerPaused = pause
        guard !partitions.isEmpty else { return }
        actions.append(pause ? .pause(Array(partitions.keys)) : .resume(Array(partitions.keys)))
    }
}
