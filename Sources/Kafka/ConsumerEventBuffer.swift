import DequeModule
import Dispatch
import Synchronization

/// The bounded hand-over between a consumer's poll thread and the application.
///
/// Records wait in one queue per partition. Assignment changes jump the queue, and a revoke drops
/// the revoked partitions' waiting records (nobody will commit them, so the next owner reads them again).
/// Records of partitions the application paused wait aside until resumed. When the deliverable
/// records reach the capacity, the poll thread pauses fetching (librdkafka keeps serving the group).
final class ConsumerEventBuffer: Sendable {
    /// What the poll thread must do after handing over records.
    enum FlowAction: Equatable {
        case none
        case pauseFetching
        case resumeFetching
    }

    private struct State {
        var queues: [TopicPartition: Deque<KafkaRecord>] = [:]
        var ready: Deque<TopicPartition> = []
        var control: Deque<KafkaConsumerEvent> = []
        var paused: Set<TopicPartition> = []
        var deliverable = 0
        var fetchingPaused = false
        var waiter: CheckedContinuation<KafkaConsumerEvent?, any Error>?
        var finished: (any Error)?? = nil
    }

    private let state = Mutex(State())
    private let capacity: Int
    private let hardLimit: Int
    private let maxBatch: Int
    /// Signalled when the application takes records while the poll thread waits for room.
    private let roomSignal = DispatchSemaphore(value: 0)
    private let pollerWaiting = Atomic<Bool>(false)

    init(capacity: Int, maxBatch: Int) {
        self.capacity = max(1, capacity)
        self.hardLimit = self.capacity + max(100, self.capacity / 10)
        self.maxBatch = max(1, maxBatch)
    }

    /// How many more records fit under the capacity (zero or less when full).
    var room: Int { capacity - state.withLock { $0.deliverable } }

    /// Blocks the poll thread until there is room or `timeout` passes; true when there is room.
    func waitForRoom(timeout: Duration) -> Bool {
        pollerWaiting.store(true, ordering: .sequentiallyConsistent)
        if room > 0 {
            pollerWaiting.store(false, ordering: .sequentiallyConsistent)
            return true
        }
        _ = roomSignal.wait(timeout: .now() + .milliseconds(Int(NativeClient.milliseconds(timeout))))
        pollerWaiting.store(false, ordering: .sequentiallyConsistent)
        return room > 0
    }

    /// Wakes a poll thread waiting for room.
    private func signalRoom() {
        if pollerWaiting.exchange(false, ordering: .sequentiallyConsistent) { roomSignal.signal() }
    }

    /// Appends fetched records; says whether fetching must pause.
    func append(_ records: [KafkaRecord]) -> FlowAction {
        guard !records.isEmpty else { return .none }
        let (waiter, event, action) = state.withLock { state -> (CheckedContinuation<KafkaConsumerEvent?, any Error>?, KafkaConsumerEvent?, FlowAction) in
            // Runs of one partition are appended together: one lookup per run, not per record.
            var start = records.startIndex
            while start < records.endIndex {
                let first = records[start]
                var end = start + 1
                while end < records.endIndex, records[end].partition == first.partition, records[end].topic == first.topic { end += 1 }
                let partition = first.topicPartition
                let paused = state.paused.contains(partition)
                if !paused, state.queues[partition]?.isEmpty ?? true { state.ready.append(partition) }
                state.queues[partition, default: []].append(contentsOf: records[start..<end])
                if !paused { state.deliverable += end - start }
                start = end
            }
            var action = FlowAction.none
            if state.deliverable >= hardLimit && !state.fetchingPaused {
                state.fetchingPaused = true
                action = .pauseFetching
            }
            guard let waiter = state.waiter, let event = Self.takeEvent(&state, maxBatch: maxBatch) else {
                return (nil, nil, action)
            }
            state.waiter = nil
            return (waiter, event, action)
        }
        if let waiter { waiter.resume(returning: event) }
        return action
    }

    /// Puts an assignment change ahead of waiting records; a revoke drops the revoked partitions' records.
    func post(_ event: KafkaConsumerEvent) {
        let waiter = state.withLock { state -> CheckedContinuation<KafkaConsumerEvent?, any Error>? in
            if case .partitionsRevoked(let revocation) = event {
                for partition in revocation.partitions {
                    if let queue = state.queues.removeValue(forKey: partition), !state.paused.contains(partition) {
                        state.deliverable -= queue.count
                    }
                    state.paused.remove(partition)
                }
                state.ready.removeAll { partition in revocation.partitions.contains(partition) }
            }
            // A waiting application has nothing queued: hand the event over directly.
            guard let waiter = state.waiter else {
                state.control.append(event)
                return nil
            }
            state.waiter = nil
            return waiter
        }
        if let waiter { waiter.resume(returning: event) }
    }

    /// Holds back the partitions' records until resumed.
    func pause(_ partitions: [TopicPartition]) {
        state.withLock { state in
            for partition in partitions where !state.paused.contains(partition) {
                state.paused.insert(partition)
                state.deliverable -= state.queues[partition]?.count ?? 0
            }
            state.ready.removeAll { partitions.contains($0) }
        }
    }

    /// Delivers the partitions' held records again.
    func resume(_ partitions: [TopicPartition]) {
        let (waiter, event) = state.withLock { state -> (CheckedContinuation<KafkaConsumerEvent?, any Error>?, KafkaConsumerEvent?) in
            for partition in partitions where state.paused.contains(partition) {
                state.paused.remove(partition)
                let count = state.queues[partition]?.count ?? 0
                state.deliverable += count
                if count > 0 { state.ready.append(partition) }
            }
            guard let waiter = state.waiter, let event = Self.takeEvent(&state, maxBatch: maxBatch) else { return (nil, nil) }
            state.waiter = nil
            return (waiter, event)
        }
        if let waiter { waiter.resume(returning: event) }
    }

    /// Whether fetching should be paused now (the buffer is full and has not drained to half yet).
    var wantsFetchingPaused: Bool { state.withLock { $0.fetchingPaused } }

    /// Partitions the application paused.
    var pausedPartitions: Set<TopicPartition> { state.withLock { $0.paused } }

    /// Ends the sequence, with an error or normally, after what is waiting has been taken.
    func finish(throwing error: (any Error)? = nil) {
        let waiter = state.withLock { state -> CheckedContinuation<KafkaConsumerEvent?, any Error>? in
            if state.finished == nil { state.finished = .some(error) }
            defer { state.waiter = nil }
            return state.waiter
        }
        if let waiter {
            if let error { waiter.resume(throwing: error) } else { waiter.resume(returning: nil) }
        }
    }

    /// The next event, waiting if there is none; nil at the end. Also says whether fetching may resume.
    func next() async throws -> (KafkaConsumerEvent?, FlowAction) {
        let lowWater = capacity / 2
        let event: KafkaConsumerEvent? = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let immediate = state.withLock { state -> Result<KafkaConsumerEvent?, any Error>? in
                    if let event = Self.takeEvent(&state, maxBatch: maxBatch) { return .success(event) }
                    if let finished = state.finished {
                        if let error = finished { return .failure(error) }
                        return .success(nil)
                    }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.waiter = continuation
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<KafkaConsumerEvent?, any Error>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(throwing: CancellationError())
        }
        let (action, hasRoom) = state.withLock { state -> (FlowAction, Bool) in
            let hasRoom = state.deliverable < capacity
            guard state.fetchingPaused, state.deliverable <= lowWater else { return (.none, hasRoom) }
            state.fetchingPaused = false
            return (.resumeFetching, hasRoom)
        }
        if hasRoom { signalRoom() }
        return (event, action)
    }

    /// Takes a control event if any, else a batch of deliverable records.
    private static func takeEvent(_ state: inout State, maxBatch: Int) -> KafkaConsumerEvent? {
        if let control = state.control.popFirst() { return control }
        var batch: [KafkaRecord] = []
        while batch.count < maxBatch, let partition = state.ready.popFirst() {
            // Taken out of the dictionary so that it is mutated in place, not copied.
            guard var queue = state.queues.removeValue(forKey: partition) else { continue }
            let take = min(queue.count, maxBatch - batch.count)
            batch.append(contentsOf: queue.prefix(take))
            queue.removeFirst(take)
            if !queue.isEmpty {
                state.queues[partition] = queue
                state.ready.append(partition)
            }
        }
        guard !batch.isEmpty else { return nil }
        state.deliverable -= batch.count
        return .records(batch)
    }
}
