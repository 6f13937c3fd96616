import Synchronization

/// What `/health/live` and `/health/ready` report: alive while the worker runs, ready while it consumes (joined)
/// and the providers can be called (as ``ProviderHealth`` sees them: no account pause, no breaker open).
public final class WorkerHealth: Sendable {
    private struct State {
        var running = false
        var consuming = false
    }

    private let state = Mutex(State())
    private let providers: ProviderHealth

    /// A health state for a worker that has not started, whose providers are `providers`.
    public init(providers: ProviderHealth) {
        self.providers = providers
    }

    /// Whether the worker's loop runs.
    public var isLive: Bool { state.withLock { $0.running } }
    /// Whether the worker consumes and the providers can be called.
    public var isReady: Bool { state.withLock { $0.running && $0.consuming } && providers.unavailability == nil }
    /// Why events cannot be scored now (an account pause, an open breaker), if they cannot.
    public var unavailability: String? { providers.unavailability }

    /// Records whether the worker's loop runs.
    public func setRunning(_ running: Bool) { state.withLock { $0.running = running } }
    /// Records whether a consumer session is subscribed and consuming.
    public func setConsuming(_ consuming: Bool) { state.withLock { $0.consuming = consuming } }
}
