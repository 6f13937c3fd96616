/// A simulated provider outage (`POST /_sim/outage`, `--outage`): every scoring request to the provider fails.
public struct SandboxOutage: Sendable, Hashable {
    /// How requests fail during an outage.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// HTTP 503 with `Retry-After` and a JSON error body.
        case unavailable
        /// The connection is closed without a response.
        case drop
        /// No answer until the outage ends or 60 s pass (then HTTP 503); never blocks a thread.
        case hang
    }

    /// How requests fail.
    public var kind: Kind
    /// The provider that is down; nil means both.
    public var provider: SandboxProvider?
    /// The outage clears itself this long after it was set; nil means until cleared.
    public var duration: Duration?
    /// The `Retry-After` of 503 answers in seconds; nil means the seconds left (rounded up), or 5 without a duration.
    public var retryAfter: Int?

    /// Creates an outage.
    public init(_ kind: Kind, provider: SandboxProvider? = nil, duration: Duration? = nil, retryAfter: Int? = nil) {
        self.kind = kind
        self.provider = provider
        self.duration = duration
        self.retryAfter = retryAfter
    }
}
