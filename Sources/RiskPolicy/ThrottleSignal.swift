import RiskEvents

/// The failures by which a provider says it is called too often: HTTP 429 from either, number-scoring code 4 and
/// phone-risk error 10019. They slow the provider's calls down (see ``RateLimiter``) and cost the event no attempt.
public enum ThrottleSignal {
    /// Whether `code` from `source` is a throttling signal.
    public static func matches(source: FailureSource, code: String) -> Bool {
        switch (source, code) {
        case (_, "http-429"), (.numberScoring, "4"), (.phoneRisk, "10019"): true
        default: false
        }
    }
}
