import Synchronization
import Testing

@testable import RiskPipeline

@Suite struct ExternalIdLockTests {
    /// A value tasks share, behind a lock.
    final class Shared<Value: Sendable>: Sendable {
        private let value: Mutex<Value>
        init(_ value: Value) { self.value = Mutex(value) }
        func update<Result>(_ body: (inout Value) -> Result) -> Result { value.withLock { body(&$0) } }
        var current: Value { value.withLock { $0 } }
    }

    /// Returns once `count` tasks wait for `externalId`.
    static func untilWaiting(_ count: Int, for externalId: String, in lock: ExternalIdLock) async {
        while lock.waitingCount(for: externalId) < count { await Task.yield() }
    }

    @Test func waitersTakeTheIdInArrivalOrderAndOtherIdsDoNotWait() async throws {
        let lock = ExternalIdLock()
        let order = Shared<[String]>([])
        try await lock.acquire("a")
        try await lock.acquire("b")
        var waiters: [Task<Void, any Error>] = []
        for name in ["first", "second", "third"] {
            waiters.append(Task {
                try await lock.acquire("a")
                order.update { $0.append(name) }
                lock.release("a")
            })
            await Self.untilWaiting(waiters.count, for: "a", in: lock)
        }
        #expect(order.current.isEmpty)
        lock.release("b")
        lock.release("a")
        for waiter in waiters { try await waiter.value }
        #expect(order.current == ["first", "second", "third"])
        #expect(lock.waitingCount(for: "a") == 0)
        try await lock.acquire("a")
    }

    @Test func aCancelledWaiterThrowsAndTheNextOneGetsTheId() async throws {
        let lock = ExternalIdLock()
        try await lock.acquire("a")
        let cancelled = Task { try await lock.acquire("a") }
        await Self.untilWaiting(1, for: "a", in: lock)
        let next = Task { try await lock.acquire("a") }
        await Self.untilWaiting(2, for: "a", in: lock)
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        #expect(lock.waitingCount(for: "a") == 1)
        lock.release("a")
        try await next.value
        // `next` holds it now: one more waits until it is given back.
        let last = Task { try await lock.acquire("a") }
        await Self.untilWaiting(1, for: "a", in: lock)
        lock.release("a")
        try await last.value
    }

    @Test func aTaskCancelledBeforeItWaitsDoesNotTakeTheId() async throws {
        let lock = ExternalIdLock()
        try await lock.acquire("a")
        let started = Shared(false)
        let waiter = Task {
            started.update { $0 = true }
            withUnsafeCurrentTask { $0?.cancel() }
            try await lock.acquire("a")
        }
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(started.current)
        #expect(lock.waitingCount(for: "a") == 0)
        lock.release("a")
        try await lock.acquire("a")
    }

    @Test func oneHolderAtATimeUnderContention() async throws {
        let lock = ExternalIdLock()
        let holders = Shared([0, 0, 0])  // holding now, most at once, times held
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<400 {
                group.addTask {
                    let id = "id-\(index % 4)"
                    try await lock.acquire(id)
                    if index % 4 == 0 { holders.update { $0[0] += 1; $0[1] = max($0[1], $0[0]); $0[2] += 1 } }
                    await Task.yield()
                    if index % 4 == 0 { holders.update { $0[0] -= 1 } }
                    lock.release(id)
                }
            }
            try await group.waitForAll()
        }
        #expect(holders.current == [0, 1, 100])
        for index in 0..<4 { #expect(lock.waitingCount(for: "id-\(index)") == 0) }
    }
}
