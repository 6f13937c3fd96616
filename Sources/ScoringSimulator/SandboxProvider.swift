/// One of the two provider APIs the sandbox plays, as outages and allowances name them.
public enum SandboxProvider: String, Sendable, Hashable, Codable, CaseIterable {
    /// `POST /phone-service/phoneRiskScore`.
    case phoneRisk = "phone-risk"
    /// `POST /lookup/number-scoring`.
    case numberScoring = "number-scoring"
}
