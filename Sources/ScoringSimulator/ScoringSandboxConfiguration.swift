/// How the sandbox listens and behaves.
public struct ScoringSandboxConfiguration: Sendable, Hashable {
    /// Address to bind.
    public var host: String
    /// Port to bind; 0 picks a free one.
    public var port: Int
    /// A bearer token always accepted by the phone risk endpoint.
    public var token: String
    /// The API key: `X-API-KEY` of number scoring and `Api-Key` of `/auth`.
    public var apiKey: String
    /// Fixed delay added to every scoring answer.
    public var latency: Duration
    /// Extra random delay, uniform in 0...jitter.
    public var jitter: Duration
    /// Probability (0...1) that a scoring request fails with HTTP 500.
    public var errorRate: Double
    /// `expires_in` of tokens issued by `/auth`, in seconds.
    public var tokenLifetimeSeconds: Int
    /// An outage in force from the start (its duration counts from the start, and again from each reset).
    public var outage: SandboxOutage?
    /// The scoring allowed per second from the start; the default is unlimited.
    public var allowance: SandboxAllowance

    /// Creates a configuration; the defaults match `scoring-sim`'s flags.
    public init(
        host: String = "127.0.0.1",
        port: Int = 8089,
        token: String = "sandbox-token",
        apiKey: String = "sandbox-key",
        latency: Duration = .zero,
        jitter: Duration = .zero,
        errorRate: Double = 0,
        tokenLifetimeSeconds: Int = 3600,
        outage: SandboxOutage? = nil,
        allowance: SandboxAllowance = SandboxAllowance()
    ) {
        self.host = host
        self.port = port
        self.token = token
        self.apiKey = apiKey
        self.latency = latency
        self.jitter = jitter
        self.errorRate = errorRate
        self.tokenLifetimeSeconds = tokenLifetimeSeconds
        self.outage = outage
        self.allowance = allowance
    }
}
