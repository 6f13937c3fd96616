import DequeModule

/// One event per externalId at a time within this process, so that duplicates arriving together (on other keys
/// or partitions) wait for the first one's stored results instead of paying the providers again.
public actor ExternalIdLock {
    private var queues: [String: Deque<UInt64>] = [:]
    private var waiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
    private var nextWaiter: UInt64 = 0

    /// An empty lock table.
    public init() {}

    /// Waits until `externalId` is free and takes it; throws (without taking it) when the task is cancelled.
    public func acquire(_ externalId: String) async throws {
        guard queues[externalId] != nil else {
            queues[externalId] = []
            return
        }
        let id = nextWaiter
        nextWaiter += 1
        queues[externalId, default: []].append(id)
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                if Task.isCancelled {
                    queues[externalId]?.removeAll { $0 == id }
                    continuation.resume(throwing: CancellationError())
                } else {
                    waiters[id] = continuation
                }
            }
        } onCancel: {
            Task { await self.cancel(id, externalId: externalId) }
        }
    }

    /// Gives `externalId` to the next waiter, or frees it.
    public func release(_ externalId: String) {
        guard var queue = queues[externalId] else { return }
        while let next = queue.popFirst() {
            if let continuation = waiters.removeValue(forKey: next) {
                queues[externalId] = queue
                continuation.resume()
                return
            }
        }
        queues[externalId] = nil
    }

    /// How many externalIds are held.
    public var heldCount: Int { queues.count }

    private func cancel(_ id: UInt64, externalId: String) {
        guard let continuation = waiters.removeValue(forKey: id) else { return }
        queues[externalId]?.removeAll { $0 == id }
        continuation.resume(throwing: CancellationError())
    }
}
