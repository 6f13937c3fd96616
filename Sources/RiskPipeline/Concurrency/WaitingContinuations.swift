/// The continuations of tasks suspended inside an actor, each under a ticket, resumed or cancelled by ticket.
///
/// The owning actor keeps it as a stored property and waits like this (the continuation's body runs on the actor):
///
///     let ticket = waiters.newTicket()
///     try await withTaskCancellationHandler {
///         try await withCheckedThrowingContinuation { waiters.add($0, ticket: ticket) }
///     } onCancel: {
///         Task { await self.cancelWaiter(ticket) }  // an actor method calling `waiters.cancel(ticket)`
///     }
///
/// Every continuation it keeps is resumed exactly once: by ``resume(_:returning:)``, ``resumeAll(returning:)`` or
/// ``cancel(_:)``, whichever comes first; the later calls find nothing and return false.
struct WaitingContinuations<Value: Sendable> {
    /// A suspended task's continuation.
    typealias Continuation = CheckedContinuation<Value, any Error>

    private var waiting: [UInt64: Continuation] = [:]
    private var lastTicket: UInt64 = 0

    /// An empty table.
    init() {}

    /// How many tasks are waiting.
    var count: Int { waiting.count }

    /// A ticket no other waiter of this table has had (increasing from 1).
    mutating func newTicket() -> UInt64 {
        lastTicket += 1
        return lastTicket
    }

    /// Keeps `continuation` under `ticket` and returns true; when the current task is already cancelled, resumes it
    /// with `CancellationError` at once and returns false (the cancellation handler then finds nothing).
    @discardableResult
    mutating func add(_ continuation: Continuation, ticket: UInt64) -> Bool {
        guard !Task.isCancelled else {
            continuation.resume(throwing: CancellationError())
            return false
        }
        waiting[ticket] = continuation
        return true
    }

    /// Resumes the task waiting under `ticket` with `value`; false when none is (never added, resumed or cancelled).
    @discardableResult
    mutating func resume(_ ticket: UInt64, returning value: Value) -> Bool {
        guard let continuation = waiting.removeValue(forKey: ticket) else { return false }
        continuation.resume(returning: value)
        return true
    }

    /// Resumes the task waiting under `ticket` with `CancellationError`; false when none is.
    @discardableResult
    mutating func cancel(_ ticket: UInt64) -> Bool {
        guard let continuation = waiting.removeValue(forKey: ticket) else { return false }
        continuation.resume(throwing: CancellationError())
        return true
    }

    /// Resumes every waiting task with `value`, in ticket order, and empties the table.
    mutating func resumeAll(returning value: Value) {
        let all = waiting.sorted { $0.key < $1.key }
        waiting.removeAll()
        for (_, continuation) in all { continuation.resume(returning: value) }
    }
}

extension WaitingContinuations where Value == Void {
    /// Resumes the task waiting under `ticket`; false when none is.
    @discardableResult
    mutating func resume(_ ticket: UInt64) -> Bool { resume(ticket, returning: ()) }

    /// Resumes every waiting task, in ticket order, and empties the table.
    mutating func resumeAll() { resumeAll(returning: ()) }
}
