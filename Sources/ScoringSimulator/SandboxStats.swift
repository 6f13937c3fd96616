/// What the sandbox has served since start or the last reset (`GET /_sim/stats`).
public struct SandboxStats: Sendable, Hashable, Codable {
    /// Counters over all requests.
    public struct Totals: Sendable, Hashable, Codable {
        /// `/auth` calls, accepted or not.
        public var auth = 0
        /// Tokens issued by `/auth`.
        public var tokensIssued = 0
        /// Phone risk requests, accepted or not.
        public var phoneRisk = 0
        /// Number scoring requests, accepted or not.
        public var numberScoringRequests = 0
        /// Msisdns asked in accepted number scoring requests.
        public var numberScoringMsisdns = 0
        /// Requests answered 401.
        public var unauthorized = 0
        /// Requests answered 400.
        public var badRequests = 0
        /// Requests failed by `--error-rate`.
        public var injectedErrors = 0
    }

    /// Counters over all requests.
    public var totals = Totals()
    /// Accepted phone risk calls per `externalId` (requests without one are counted under `""`).
    public var phoneRiskByExternalId: [String: Int] = [:]
    /// Accepted phone risk calls per msisdn (digits without `+`).
    public var phoneRiskByMsisdn: [String: Int] = [:]
    /// Number scoring lookups per msisdn.
    public var numberScoringByMsisdn: [String: Int] = [:]
    /// The forced mode, if any.
    public var mode = SandboxMode()

    /// Creates empty stats.
    public init() {}
}
