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

    /// Requests to one provider that an outage or the allowance failed.
    public struct Refused: Sendable, Hashable, Codable {
        /// Requests answered 503 by an `unavailable` outage.
        public var unavailable = 0
        /// Requests whose connection a `drop` outage closed without an answer.
        public var dropped = 0
        /// Requests a `hang` outage held, counted when they arrive.
        public var hung = 0
        /// Requests held right now (a gauge, not cleared by a reset).
        public var heldNow = 0
        /// Requests the allowance cut: phone risk answered 429, number scoring with at least one number answered 4.
        public var throttled = 0
        /// Numbers the allowance answered `response: 4` (number scoring only).
        public var throttledNumbers = 0

        /// No refusals.
        public init() {}
    }

    /// Counters over all requests.
    public var totals = Totals()
    /// Phone risk requests failed by an outage or the allowance (also counted in `totals.phoneRisk`).
    public var phoneRiskRefused = Refused()
    /// Number scoring requests failed by an outage or the allowance (also counted in `totals.numberScoringRequests`).
    public var numberScoringRefused = Refused()
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

    /// The refusals of `provider`.
    subscript(refused provider: SandboxProvider) -> Refused {
        get {
            switch provider {
            case .phoneRisk: phoneRiskRefused
            case .numberScoring: numberScoringRefused
            }
        }
        set {
            switch provider {
            case .phoneRisk: phoneRiskRefused = newValue
            case .numberScoring: numberScoringRefused = newValue
            }
        }
    }
}
