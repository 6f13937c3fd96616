import Synchronization

/// What `/health/live` and `/health/ready` report: alive while the worker runs, ready while it consumes
/// (joined, not paused by an account-level provider error).
public final class WorkerHealth: Sendable {
    private struct State {
        var running = false
        var consuming = false
        var pauseReason: ProviderPause.Reason?
    }

    private let state = Mutex(State())

    /// A health state for a worker that has not started.
    public init() {}

    /// Whether the worker's loop runs.
    public var isLive: Bool { state.withLock { $0.running } }
    /// Whether the worker consumes and the providers are not paused.
    public var isReady: Bool { state.withLock { $0.running && $0.consuming && $0.pauseReason == nil } }
    /// Why the providers are paused, if they are.
    public var pauseReason: ProviderPause.Reason? { state.withLock { $0.pauseReason } }

    /// Records whether the worker's loop runs.
    public func setRunning(_ running: Bool) { state.withLock { $0.running = running } }
    /// Records whether a consumer session is subscribed and consuming.
    public func setConsuming(_ consuming: Bool) { state.withLock { $0.consuming = consuming } }
    /// Records the start (a reason) or end (nil) of an account-level pause.
    public func setPauseReason(_ reason: ProviderPause.Reason?) { state.withLock { $0.pauseReason = reason } }
}
