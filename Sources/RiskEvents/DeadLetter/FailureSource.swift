/// The step of the pipeline a failure comes from: the `risk.error.source` dead-letter header and the first part of
/// an error-policy item.
public enum FailureSource: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The record is not a valid lifecycle event.
    case validation
    /// The phone-risk API call failed.
    case phoneRisk = "phone-risk"
    /// The number-scoring API call failed.
    case numberScoring = "number-scoring"

    /// The header spelling (`validation`, `phone-risk`, `number-scoring`).
    public var description: String { rawValue }
}
