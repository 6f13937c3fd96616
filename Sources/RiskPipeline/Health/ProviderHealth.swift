import Logging
import RiskEvents
import Synchronization

/// Whether the providers can be called: the one owner of the account-level pause. Work asks it before calling
/// (``waitUntilOpen()``) and reports what the providers answered; the coordinator (``pauses()``), `/health/ready`
/// (``pauseReason``) and the `risk_paused` gauge observe it; each start and end of a pause is logged once.
public actor ProviderHealth {
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

    private var state: ProviderHealthState
    private var waiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
    private var nextWaiter: UInt64 = 0
    private var observers: [UInt64: AsyncStream<Bool>.Continuation] = [:]
    private var nextObserver: UInt64 = 0
    private nonisolated let current = Mutex<Reason?>(nil)
    private let sleep: @Sendable (Duration) async throws -> Void
    private let metrics: WorkerMetrics
    private let logger: Logger

    /// A healthy state probing by `probes` during a pause, sleeping with `sleep`.
    public init(
        probes: RetrySchedule = RetryTable.standard.pauseProbes,
        metrics: WorkerMetrics,
        logger: Logger,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.state = ProviderHealthState(probes: probes)
        self.metrics = metrics
        self.logger = logger
        self.sleep = sleep
    }

    /// Why the providers are paused, nil while they are not (readable from any thread, for `/health/ready`).
    public nonisolated var pauseReason: Reason? { current.withLock { $0 } }

    /// Whether the providers are paused now, then each change, for as long as the caller iterates.
    public func pauses() -> AsyncStream<Bool> {
        let (stream, continuation) = AsyncStream.makeStream(of: Bool.self, bufferingPolicy: .bufferingNewest(1))
        nextObserver += 1
        let id = nextObserver
        observers[id] = continuation
        continuation.yield(state.isPaused)
        continuation.onTermination = { _ in Task { await self.removeObserver(id) } }
        return stream
    }

    /// Returns at once when not paused, else when the pause ends; throws when the task is cancelled.
    public func waitUntilOpen() async throws {
        guard state.isPaused else { return }
        try await waitForEnd()
    }

    /// Work `id` met an account-level failure; returns when it should try again: after a backoff delay for the one
    /// prober (the first to fail, or `id` again), else once the pause has ended.
    public func failed(_ source: ErrorSource, code: String, message: String, by id: UInt64) async throws {
        let (turn, started) = state.failed(Reason(source: source, code: code, message: message), by: id)
        if started { changed() }
        switch turn {
        case .wait:
            try await waitForEnd()
        case .probe(let delay):
            do {
                try await sleep(delay)
            } catch {
                // The prober is gone (cancelled): let the waiting work try, so one of them becomes the prober.
                state.proberGone()
                resumeAll()
                throw error
            }
        }
    }

    /// A provider call got through: the pause, if any, ends.
    public func succeeded() {
        guard state.succeeded() else { return }
        resumeAll()
        changed()
    }

    private func changed() {
        let reason = state.reason
        current.withLock { $0 = reason }
        metrics.paused.record(reason == nil ? 0 : 1)
        if let reason {
            logger.warning("account-level provider error: pausing consumption and probing", metadata: ["reason": "\(reason)"])
        } else {
            logger.info("providers answer again: resuming consumption")
        }
        for observer in observers.values { observer.yield(reason != nil) }
    }

    private func removeObserver(_ id: UInt64) {
        observers.removeValue(forKey: id)
    }

    private func waitForEnd() async throws {
        nextWaiter += 1
        let id = nextWaiter
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
