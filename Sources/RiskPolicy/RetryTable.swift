/// Every retry the worker makes, in one table: what is retried, and by which schedule.
///
/// | what | schedule (defaults) |
/// |---|---|
/// | a provider call that failed retriably | 200 ms to 10 s, full jitter, 5 attempts, at most 5 minutes of the event's time (`RETRY_*` settings) |
/// | an idempotency store read or write | 1 s to 60 s, equal jitter, until it works or the event is abandoned |
/// | a look at an externalId claimed by another instance | 50 ms to 1 s, equal jitter, until the claim ends or expires |
/// | the probe of a provider paused for the account | 1 s to 60 s, equal jitter, until the provider answers |
/// | the probe of a provider's open circuit breaker | 0.5 s to 30 s, equal jitter, until the provider answers |
/// | a transaction commit librdkafka says may be retried | 50 ms to 1 s, 5 attempts, then the transaction aborts |
/// | a session that ended to start again from the committed offsets | 500 ms to 30 s, equal jitter, no limit; starts over after a session that lasted a minute |
public struct RetryTable: Sendable, Hashable {
    /// Provider calls that failed retriably (per event and provider).
    public var providerCalls: RetrySchedule
    /// The longest an event's provider call is retried, waits for an open breaker not counted (`RETRY_MAX_ELAPSED`).
    public var providerCallsMaxElapsed: Duration
    /// Idempotency store reads and writes (per event).
    public var storeFailures: RetrySchedule
    /// Looks at an externalId another instance holds the claim on (per event).
    public var claimWaits: RetrySchedule
    /// Probes of a provider paused by an account-level failure.
    public var pauseProbes: RetrySchedule
    /// Probes of a provider whose circuit breaker is open.
    public var breakerProbes: RetrySchedule
    /// Transaction commits that may be retried (per cycle).
    public var transactionCommits: RetrySchedule
    /// Sessions restarted from the committed offsets (per worker).
    public var sessionRestarts: RetrySchedule

    /// A table; every schedule defaults to the table above.
    public init(
        providerCalls: RetrySchedule = .providerCalls,
        providerCallsMaxElapsed: Duration = .seconds(300),
        storeFailures: RetrySchedule = RetrySchedule(base: .seconds(1), cap: .seconds(60), maxAttempts: nil, jitter: .equal),
        claimWaits: RetrySchedule = RetrySchedule(base: .milliseconds(50), cap: .seconds(1), maxAttempts: nil, jitter: .equal),
        pauseProbes: RetrySchedule = .pauseProbes,
        breakerProbes: RetrySchedule = RetrySchedule(base: .milliseconds(500), cap: .seconds(30), maxAttempts: nil, jitter: .equal),
        transactionCommits: RetrySchedule = RetrySchedule(base: .milliseconds(50), cap: .seconds(1), maxAttempts: 5, jitter: .equal),
        sessionRestarts: RetrySchedule = RetrySchedule(base: .milliseconds(500), cap: .seconds(30), maxAttempts: nil, jitter: .equal)
    ) {
        self.providerCalls = providerCalls
        self.providerCallsMaxElapsed = providerCallsMaxElapsed
        self.storeFailures = storeFailures
        self.claimWaits = claimWaits
        self.pauseProbes = pauseProbes
        self.breakerProbes = breakerProbes
        self.transactionCommits = transactionCommits
        self.sessionRestarts = sessionRestarts
    }

    /// The defaults.
    public static let standard = RetryTable()

    /// How long a session must have lasted for the next restart to start its backoff over.
    public static let sessionRestartReset = Duration.seconds(60)
}
