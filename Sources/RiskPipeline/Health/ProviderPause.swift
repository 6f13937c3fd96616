import Foundation
import RiskEvents

/// The account-level pause: while a provider refuses the account (no credit, suspended, bad credentials), events
/// wait instead of failing, one of them probes the provider with backoff, and the first success ends the pause.
public actor ProviderPause {
    /// Why the providers are paused.
    public struct Reason: Sendable, Equatable, CustomStringConvertible {
        /// The provider that refused.
        public var source: ErrorSource
        /// Its code (such as `3` or `http-403`).
        public var code: String
        /// Its message.
        public var message: String

        /// `<source> <code>: <message>`.
        public var description: String { "\(source.rawValue) \(code): \(message)" }
    }

    /// Why the providers are paused, nil while they are not.
    public private(set) var reason: Reason?
    private var prober: UInt64?
    private var backoff: RetrySchedule.Backoff
    private var waiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
    private var nextWaiter: UInt64 = 0
    private let sleep: @Sendable (Duration) async throws -> Void
    private let onChange: @Sendable (Reason?) -> Void

    /// A pause probing by `schedule`, sleeping with `sleep`; `onChange` hears every start (a reason) and end (nil).
    public init(
        schedule: RetrySchedule = .pauseProbes,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        onChange: @escaping @Sendable (Reason?) -> Void = { _ in }
    ) {
        self.backoff = schedule.start()
        self.sleep = sleep
        self.onChange = onChange
    }

    /// Whether the providers are paused.
    public var isPaused: Bool { reason != nil }

    /// Returns at once when not paused, else when the pause ends; throws when the task is cancelled.
    public func waitUntilOpen() async throws {
        guard reason != nil else { return }
        try await waitForEnd()
    }

    /// Records that work `id` met an account-level failure; returns when it should try again: after a backoff
    /// delay for the one prober (the first to fail, or `id` again), else once the pause has ended.
    public func failed(_ reason: Reason, by id: UInt64) async throws {
        if self.reason == nil {
            self.reason = reason
            backoff.reset()
            onChange(reason)
        }
        if let prober, prober != id {
            try await waitForEnd()
            return
        }
        prober = id
        let delay = backoff.nextDelay() ?? backoff.schedule.cap
        do {
            try await sleep(delay)
        } catch {
            // The prober is gone (cancelled): let the waiting work try, so one of them becomes the prober.
            prober = nil
            resumeAll()
            throw error
        }
    }

    /// Records that a provider call got through: the pause, if any, ends; returns whether one ended.
    @discardableResult
    public func succeeded() -> Bool {
        guard reason != nil else { return false }
        reason = nil
        prober = nil
        backoff.reset()
        resumeAll()
        onChange(nil)
        return true
    }

    private func waitForEnd() async throws {
        let id = nextWaiter
        nextWaiter += 1
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else {
                    waiters[id] = continuation
                }
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    private func cancelWaiter(_ id: UInt64) {
        waiters.removeValue(forKey: id)?.resume(throwing: CancellationError())
    }

    private func resumeAll() {
        let all = waiters
        waiters.removeAll()
        for continuation in all.values { continuation.resume() }
    }
}
