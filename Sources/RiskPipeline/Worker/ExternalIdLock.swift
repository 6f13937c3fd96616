import DequeModule

/// One event per externalId at a time within this process, so that duplicates arriving together (on other keys
/// or partitions) wait for the first one's stored results instead of paying the providers again.
actor ExternalIdLock {
    /// The tickets waiting for each externalId held, in arrival order.
    private var queues: [String: Deque<UInt64>] = [:]
    private var waiters = WaitingContinuations<Void>()

    /// An empty lock table.
    init() {}

    /// Waits until `externalId` is free and takes it; throws (without taking it) when the task is cancelled.
    func acquire(_ externalId: String) async throws {
        guard queues[externalId] != nil else {
            queues[externalId] = []
            return
        }
        let ticket = waiters.newTicket()
        queues[externalId, default: []].append(ticket)
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                if !waiters.add(continuation, ticket: ticket) { queues[externalId]?.removeAll { $0 == ticket } }
            }
        } onCancel: {
            Task { await self.cancel(ticket, externalId: externalId) }
        }
    }

    /// Gives `externalId` to the next waiter, or frees it.
    func release(_ externalId: String) {
        guard var queue = queues[externalId] else { return }
        while let next = queue.popFirst() {
            queues[externalId] = queue
            if waiters.resume(next) { return }
        }
        queues[externalId] = nil
    }

    /// How many externalIds are held.
    var heldCount: Int { queues.count }

    private func cancel(_ ticket: UInt64, externalId: String) {
        guard waiters.cancel(ticket) else { return }
        queues[externalId]?.removeAll { $0 == ticket }
    }
}
