import DequeModule

/// The ordering state machine of one partition: same-key records run one after another, other records in parallel,
/// and outputs leave in input-offset order; it also tells the offset that may be committed.
///
/// Records are enqueued in increasing offset order (gaps, as left by transaction markers or compaction, are fine).
/// `enqueue` says whether the record may start at once: it may unless an earlier record with the same key is still
/// waiting or running. A null key never waits for anything: each null-key record is its own key. `finish` records a
/// record's output and returns (1) the outputs now released, in offset order, each only once every earlier record of
/// the partition is finished and released, and (2) the waiting records that may start now. `committableOffset` is the
/// offset after the released prefix: the next offset to consume, to commit once the released outputs are delivered.
///
/// Every operation is O(1) amortised (finding a slot by offset is O(1) for contiguous offsets, O(log n) in the number
/// of records in flight otherwise). The type is a plain value: its owner (one actor per consumer, or per partition)
/// serialises access. After ``abandon()`` (a revoked partition) the sequencer is empty and its ``generation`` has
/// changed, so that a late `finish` of abandoned work can be told apart from work enqueued again later.
struct PartitionSequencer<Output> {
    /// A record whose output is released, with that output.
    struct Release {
        /// The record's offset.
        var offset: Int64
        /// The output the record finished with.
        var output: Output
    }

    /// What one `finish` changed: outputs now released (offset order) and waiting records now allowed to start.
    struct Completion {
        /// Outputs released by this finish, in increasing offset order (possibly empty).
        var ready: [Release]
        /// Offsets of records that were waiting for this one (same key) and may start now (zero or one).
        var startable: [Int64]
    }

    /// What ``abandon()`` dropped.
    struct Abandoned {
        /// Offsets of the records that had not started (waiting for an earlier record with the same key).
        var waiting: [Int64]
        /// Offsets of the records that had started and not finished.
        var running: [Int64]
        /// Records that had finished but whose output was not released (an earlier record was unfinished).
        var finished: [Release]

        /// How many records were dropped in all.
        var count: Int { waiting.count + running.count + finished.count }
    }

    /// Why a call was refused; the sequencer is unchanged when it refuses.
    enum Rejection: Error, Sendable, Equatable, CustomStringConvertible {
        /// `enqueue` with an offset not greater than the last one enqueued.
        case offsetNotIncreasing(offset: Int64, last: Int64)
        /// `finish` of an offset that is not in flight (never enqueued, already released, or abandoned).
        case unknownOffset(Int64)
        /// `finish` of a record that has not been allowed to start.
        case notStarted(Int64)
        /// `finish` of a record that has already finished.
        case alreadyFinished(Int64)
        /// `finish` that names a generation other than the current one (work from before an `abandon`).
        case staleGeneration(offset: Int64, generation: UInt64, current: UInt64)

        /// A one-line explanation.
        var description: String {
            switch self {
            case .offsetNotIncreasing(let offset, let last): "offset \(offset) enqueued after offset \(last): offsets must increase"
            case .unknownOffset(let offset): "offset \(offset) is not in flight"
            case .notStarted(let offset): "offset \(offset) finished before it was allowed to start"
            case .alreadyFinished(let offset): "offset \(offset) finished twice"
            case .staleGeneration(let offset, let generation, let current):
                "offset \(offset) belongs to generation \(generation), the sequencer is at generation \(current)"
            }
        }
    }

    fileprivate enum State {
        case waiting
        case running
        case finished(Output)
    }

    fileprivate struct Slot {
        let offset: Int64
        /// The key while the record is waiting or running; nil for a null key and once finished.
        var key: [UInt8]?
        var state: State
        /// The next enqueued record with the same key, which waits for this one.
        var nextSameKey: Int64?
    }

    /// Records not yet released, by increasing offset.
    private var slots: Deque<Slot> = []
    /// For each non-null key with a record in flight (waiting or running): the offset of its last enqueued record.
    private var lastOffsetByKey: [[UInt8]: Int64] = [:]
    private var lastEnqueued: Int64?
    private var runningRecords = 0

    /// The offset after the released prefix (the next offset to consume), nil until a first release or a start offset.
    private(set) var committableOffset: Int64?
    /// Changes at every ``abandon()``; tag work with it to recognise late finishes of abandoned work.
    private(set) var generation: UInt64 = 0

    /// An empty sequencer; `committedOffset` (the partition's committed position, if known) is the initial committable
    /// offset, and `generation` the first generation (a partition owned again must not reuse an earlier one).
    init(committedOffset: Int64? = nil, generation: UInt64 = 0) {
        committableOffset = committedOffset
        self.generation = generation
    }

    /// Records enqueued and not yet released (waiting, running, or finished behind an unfinished one).
    var inFlightCount: Int { slots.count }
    /// Records started and not finished.
    var runningCount: Int { runningRecords }
    /// Records waiting for an earlier record with the same key.
    var waitingCount: Int { slots.count - runningRecords - finishedUnreleasedCount }
    /// Whether nothing is in flight.
    var isIdle: Bool { slots.isEmpty }
    /// The smallest offset in flight, if any.
    var oldestInFlight: Int64? { slots.first?.offset }

    private var finishedUnreleasedCount = 0

    /// Adds the next record of the partition; returns whether it may start now (false: it waits for an earlier
    /// record with the same key, and a later `finish` will name it as startable).
    mutating func enqueue(offset: Int64, key: [UInt8]?) throws(Rejection) -> Bool {
        if let lastEnqueued, offset <= lastEnqueued {
            throw .offsetNotIncreasing(offset: offset, last: lastEnqueued)
        }
        lastEnqueued = offset
        guard let key else {
            slots.append(Slot(offset: offset, key: nil, state: .running, nextSameKey: nil))
            runningRecords += 1
            return true
        }
        if let previous = lastOffsetByKey.updateValue(offset, forKey: key), let index = index(of: previous) {
            slots[index].nextSameKey = offset
            slots.append(Slot(offset: offset, key: key, state: .waiting, nextSameKey: nil))
            return false
        }
        slots.append(Slot(offset: offset, key: key, state: .running, nextSameKey: nil))
        runningRecords += 1
        return true
    }

    /// Records that the running record at `offset` finished with `output`; returns the outputs now released and the
    /// records now allowed to start. With `generation`, a finish from before the last `abandon` is refused.
    mutating func finish(offset: Int64, output: Output, generation: UInt64? = nil) throws(Rejection) -> Completion {
        if let generation, generation != self.generation {
            throw .staleGeneration(offset: offset, generation: generation, current: self.generation)
        }
        guard let index = index(of: offset) else { throw .unknownOffset(offset) }
        switch slots[index].state {
        case .waiting: throw .notStarted(offset)
        case .finished: throw .alreadyFinished(offset)
        case .running: break
        }
        let key = slots[index].key
        let next = slots[index].nextSameKey
        slots[index].state = .finished(output)
        slots[index].key = nil
        slots[index].nextSameKey = nil
        runningRecords -= 1
        finishedUnreleasedCount += 1

        var startable: [Int64] = []
        if let next, let nextIndex = self.index(of: next) {
            slots[nextIndex].state = .running
            runningRecords += 1
            startable.append(next)
        } else if let key {
            lastOffsetByKey.removeValue(forKey: key)
        }

        var ready: [Release] = []
        while let first = slots.first, case .finished(let finishedOutput) = first.state {
            slots.removeFirst()
            finishedUnreleasedCount -= 1
            ready.append(Release(offset: first.offset, output: finishedOutput))
            committableOffset = first.offset + 1
        }
        return Completion(ready: ready, startable: startable)
    }

    /// Drops everything in flight (the partition was revoked) and reports what was dropped; the committable offset
    /// stays at the released prefix, the next enqueue may start at any offset, and the generation changes.
    mutating func abandon() -> Abandoned {
        var dropped = Abandoned(waiting: [], running: [], finished: [])
        for slot in slots {
            switch slot.state {
            case .waiting: dropped.waiting.append(slot.offset)
            case .running: dropped.running.append(slot.offset)
            case .finished(let output): dropped.finished.append(Release(offset: slot.offset, output: output))
            }
        }
        slots.removeAll()
        lastOffsetByKey.removeAll()
        lastEnqueued = nil
        runningRecords = 0
        finishedUnreleasedCount = 0
        generation &+= 1
        return dropped
    }

    /// The index of the slot holding `offset`: O(1) when offsets in flight are contiguous, a binary search otherwise.
    private func index(of offset: Int64) -> Int? {
        guard let first = slots.first, offset >= first.offset else { return nil }
        let distance = offset - first.offset
        if distance < Int64(slots.count), slots[Int(distance)].offset == offset { return Int(distance) }
        var low = 0
        var high = slots.count - 1
        while low <= high {
            let middle = (low + high) / 2
            let candidate = slots[middle].offset
            if candidate == offset { return middle }
            if candidate < offset { low = middle + 1 } else { high = middle - 1 }
        }
        return nil
    }
}

extension PartitionSequencer: Sendable where Output: Sendable {}
extension PartitionSequencer.Release: Sendable where Output: Sendable {}
extension PartitionSequencer.Release: Equatable where Output: Equatable {}
extension PartitionSequencer.Completion: Sendable where Output: Sendable {}
extension PartitionSequencer.Completion: Equatable where Output: Equatable {}
extension PartitionSequencer.Abandoned: Sendable where Output: Sendable {}
extension PartitionSequencer.Abandoned: Equatable where Output: Equatable {}
extension PartitionSequencer.Slot: Sendable where Output: Sendable {}
extension PartitionSequencer.State: Sendable where Output: Sendable {}
