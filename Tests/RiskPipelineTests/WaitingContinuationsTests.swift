import Testing
@testable import RiskPipeline

@Suite struct WaitingContinuationsTests {
    /// An actor that lets tasks wait for a number, as ExternalIdLock and ProviderHealth let them wait.
    actor Gate {
        private var waiters = WaitingContinuations<Int>()
        private(set) var tickets: [UInt64] = []

        var count: Int { waiters.count }

        func wait() async throws -> Int {
            let ticket = waiters.newTicket()
            tickets.append(ticket)
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { waiters.add($0, ticket: ticket) }
            } onCancel: {
                Task { await self.cancel(ticket) }
            }
        }

        func resume(_ ticket: UInt64, with value: Int) -> Bool { waiters.resume(ticket, returning: value) }
        func cancel(_ ticket: UInt64) -> Bool { waiters.cancel(ticket) }
        func resumeAll(with value: Int) { waiters.resumeAll(returning: value) }

        /// Returns once `count` tasks wait.
        func untilWaiting(_ count: Int) async {
            while waiters.count < count { await Task.yield() }
        }
    }

    @Test func aWaiterGetsTheValueOfItsTicketOnce() async throws {
        let gate = Gate()
        let first = Task { try await gate.wait() }
        await gate.untilWaiting(1)
        let second = Task { try await gate.wait() }
        await gate.untilWaiting(2)
        let tickets = await gate.tickets
        #expect(tickets == [1, 2])
        #expect(await gate.resume(2, with: 20))
        #expect(try await second.value == 20)
        #expect(await !gate.resume(2, with: 21), "a ticket is resumed once")
        #expect(await gate.count == 1)
        #expect(await gate.resume(1, with: 10))
        #expect(try await first.value == 10)
        #expect(await !gate.resume(7, with: 0), "an unknown ticket")
    }

    @Test func aCancelledWaiterThrowsAndLeavesTheTable() async {
        let gate = Gate()
        let waiter = Task { try await gate.wait() }
        await gate.untilWaiting(1)
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        while await gate.count > 0 { await Task.yield() }
        #expect(await !gate.resume(1, with: 1), "cancelled: nothing left to resume")
        #expect(await !gate.cancel(1))
    }

    @Test func aTaskCancelledBeforeItWaitsIsNotKept() async {
        let gate = Gate()
        let waiter = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await gate.wait()
        }
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(await gate.count == 0)
        #expect(await gate.tickets == [1])
    }

    @Test func resumeAllResumesEveryWaiterAndEmptiesTheTable() async throws {
        let gate = Gate()
        var waiters: [Task<Int, any Error>] = []
        for count in 1...5 {
            waiters.append(Task { try await gate.wait() })
            await gate.untilWaiting(count)
        }
        await gate.resumeAll(with: 42)
        for waiter in waiters { #expect(try await waiter.value == 42) }
        #expect(await gate.count == 0)
        await gate.resumeAll(with: 0)
    }

    @Test func voidWaitersResumeWithoutAValue() {
        var waiters = WaitingContinuations<Void>()
        let tickets = [waiters.newTicket(), waiters.newTicket()]
        #expect(tickets == [1, 2])
        let resumed = waiters.resume(1)
        #expect(!resumed, "never added")
        waiters.resumeAll()
        #expect(waiters.count == 0)
    }
}
