import DequeModule
import Synchronization

/// One event per externalId at a time within this process, so that duplicates arriving together (on other keys
/// or partitions) wait for the first one's stored results instead of paying the providers again.
///
/// A lock box rather than an actor: taking and giving back an externalId nobody else holds, as nearly every event
/// does, costs no hop to another executor (two per event fewer, issue 16).
final class ExternalIdLock: Sendable {
    private struct Table {
        /// The tickets waiting for each externalId held, in arrival order.
        var queues: [String: Deque<UInt64>] = [:]
        var waiters = WaitingContinuations<Void>()

        /// Takes `externalId` when nobody holds it; false when somebody does.
        mutating func take(_ externalId: String) -> Bool {
            guard queues[externalId] == nil else { return false }
            queues[externalId] = []
            return true
        }
    }

    private let table = Mutex(Table())

    /// An empty lock table.
    init() {}

    /// Waits until `externalId` is free and takes it; throws (without taking it) when the task is cancelled.
    func acquire(_ externalId: String) async throws {
        let ticket: UInt64? = table.withLock { $0.take(externalId) ? nil : $0.waiters.newTicket() }
        guard let ticket else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                table.withLock { table in
                    // Given back since the first look: take it now.
                    if table.take(externalId) {
                        continuation.resume()
                        return
                    }
                    table.queues[externalId, default: []].append(ticket)
                    if !table.waiters.add(continuation, ticket: ticket) { table.queues[externalId]?.removeAll { $0 == ticket } }
                }
            }
        } onCancel: {
            table.withLock { table in
                guard table.waiters.cancel(ticket) else { return }
                table.queues[externalId]?.removeAll { $0 == ticket }
            }
        }
    }

    /// How many tasks wait for `externalId`.
    func waitingCount(for externalId: String) -> Int {
        table.withLock { $0.queues[externalId]?.count ?? 0 }
    }

    /// Gives `externalId` to the next waiter, or frees it.
    func release(_ externalId: String) {
        table.withLock { table in
            guard var queue = table.queues[externalId] else { return }
            while let next = queue.popFirst() {
                table.queues[externalId] = queue
                if table.waiters.resume(next) { return }
            }
            table.queues[externalId] = nil
        }
    }
}
