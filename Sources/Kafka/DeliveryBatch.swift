import Synchronization

/// The delivery results of records sent together, and the task waiting for all of them.
///
/// Each record's result is written once, to its own slot, so writes need no lock; the atomic
/// countdown publishes them to whoever takes the last one.
final class DeliveryBatch: @unchecked Sendable {
    typealias Outcome = Result<DeliveryReport, KafkaError>

    private let results: UnsafeMutableBufferPointer<Outcome?>
    private let remaining: Atomic<Int>
    /// The waiting task, or a marker that everything finished before anyone waited.
    private let waiter = Mutex<(continuation: CheckedContinuation<[Outcome], Never>?, finished: Bool)>((nil, false))

    init(count: Int) {
        results = UnsafeMutableBufferPointer.allocate(capacity: count)
        results.initialize(repeating: nil)
        remaining = Atomic(count)
    }

    deinit {
        results.deinitialize()
        results.deallocate()
    }

    /// Records the result of record `index` (exactly once per index); the last one wakes the waiter.
    func complete(_ index: Int, _ result: Outcome) {
        results[index] = result
        guard remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 else { return }
        let continuation = waiter.withLock { state -> CheckedContinuation<[Outcome], Never>? in
            state.finished = true
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(returning: collected())
    }

    /// Waits until every record has a result.
    func wait() async -> [Outcome] {
        if results.isEmpty { return [] }
        return await withCheckedContinuation { continuation in
            let finished = waiter.withLock { state -> Bool in
                if !state.finished { state.continuation = continuation }
                return state.finished
            }
            if finished { continuation.resume(returning: collected()) }
        }
    }

    private func collected() -> [Outcome] {
        results.map { $0 ?? .failure(KafkaError.binding("no delivery result")) }
    }
}

/// One record's place in a batch: librdkafka carries it as the message's opaque pointer.
final class DeliverySlot: Sendable {
    let batch: DeliveryBatch
    let index: Int
    /// The record's topic, so that a delivery report needs no new string.
    let topic: String

    init(batch: DeliveryBatch, index: Int, topic: String) {
        self.batch = batch
        self.index = index
        self.topic = topic
    }
}
