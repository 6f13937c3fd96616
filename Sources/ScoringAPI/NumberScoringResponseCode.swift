/// The number scoring `response` codes the provider documents.
public enum NumberScoringResponseCode: Int, Sendable, Hashable, Codable, CaseIterable {
    /// 0: success.
    case success = 0
    /// 1: general error; repeating the request won't change the result.
    case generalError = 1
    /// 2: pricing not set for the account.
    case pricingNotSet = 2
    /// 3: account out of balance.
    case outOfBalance = 3
    /// 4: throttled; sending faster than allocated.
    case throttled = 4
    /// 5: invalid number (length not valid).
    case invalidNumber = 5
    /// 6: not resolved (missing coverage).
    case notResolved = 6
    /// 7: timeout while resolving.
    case timeout = 7
    /// 8: missing permissions.
    case missingPermissions = 8

    /// How a caller should treat this code: 4, 7 retriable; 1, 5, 6 permanent; 2, 3, 8 account-level (0 is not an error).
    public var disposition: ScoringError.Disposition {
        switch self {
        case .throttled, .timeout: return .retriable
        case .success, .generalError, .invalidNumber, .notResolved: return .permanent
        case .pricingNotSet, .outOfBalance, .missingPermissions: return .accountLevel
        }
    }

    /// The provider's name for the code.
    public var summary: String {
        switch self {
        case .success: return "success"
        case .generalError: return "general error"
        case .pricingNotSet: return "pricing not set"
        case .outOfBalance: return "out of balance"
        case .throttled: return "throttled"
        case .invalidNumber: return "invalid number"
        case .notResolved: return "not resolved"
        case .timeout: return "timeout"
        case .missingPermissions: return "missing permissions"
        }
    }
}
