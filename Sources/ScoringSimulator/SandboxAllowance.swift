/// The scoring allowed per second per provider (`POST /_sim/allowance`, `--…-allowance`); 0 means unlimited.
public struct SandboxAllowance: Sendable, Hashable, Codable {
    /// Phone risk requests a second; beyond it HTTP 429 with `Retry-After`.
    public var phoneRiskPerSecond: Int
    /// Number scoring numbers a second (a batch of 50 uses 50); beyond it those numbers answer `response: 4`.
    public var numberScoringPerSecond: Int

    /// Creates an allowance; 0 means unlimited.
    public init(phoneRiskPerSecond: Int = 0, numberScoringPerSecond: Int = 0) {
        self.phoneRiskPerSecond = phoneRiskPerSecond
        self.numberScoringPerSecond = numberScoringPerSecond
    }

    /// The allowance of `provider`; 0 means unlimited.
    func perSecond(_ provider: SandboxProvider) -> Int {
        switch provider {
        case .phoneRisk: phoneRiskPerSecond
        case .numberScoring: numberScoringPerSecond
        }
    }
}
