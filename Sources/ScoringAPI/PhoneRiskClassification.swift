/// The provider's rules for turning phone risk status and error codes into dispositions.
public enum PhoneRiskClassification {
    /// The disposition of a TeleSign error code: 10019 retriable; 10010, 10012, 10013, 10015, 10020 account-level;
    /// 11xxx and 12xxx permanent; nil for codes the provider does not document.
    public static func disposition(forErrorCode code: Int) -> ScoringError.Disposition? {
        switch code {
        case 10019: return .retriable
        case 10010, 10012, 10013, 10015, 10020: return .accountLevel
        case 11000...12999: return .permanent
        default: return nil
        }
    }

    /// The disposition of a status code: 500 permanent, 501 account-level, 599 retriable; nil for others.
    public static func disposition(forStatusCode code: Int) -> ScoringError.Disposition? {
        switch code {
        case 500: return .permanent
        case 501: return .accountLevel
        case 599: return .retriable
        default: return nil
        }
    }

    /// The error for a failed answer. Known error codes win over the status code; among several errors
    /// account-level wins, then permanent, then retriable; anything undocumented is permanent.
    public static func failure(statusCode: Int?, errors: [PhoneRiskData.ProviderError]) -> ScoringError {
        var chosen: (code: Int, disposition: ScoringError.Disposition, description: String)?
        for error in errors {
            guard let code = error.code, let disposition = disposition(forErrorCode: code) else { continue }
            if chosen == nil || rank(disposition) > rank(chosen?.disposition ?? .retriable) {
                chosen = (code, disposition, error.description ?? "")
            }
        }
        if let chosen {
            return .phoneRisk(code: chosen.code, disposition: chosen.disposition, description: chosen.description)
        }
        if let statusCode, let disposition = disposition(forStatusCode: statusCode) {
            return .phoneRisk(code: statusCode, disposition: disposition, description: statusText(statusCode))
        }
        if let first = errors.first, let code = first.code {
            return .phoneRisk(code: code, disposition: .permanent, description: first.description ?? "undocumented error")
        }
        if let statusCode {
            return .phoneRisk(code: statusCode, disposition: .permanent, description: statusText(statusCode))
        }
        return ScoringError(
            kind: .phoneRisk(code: 0), disposition: .permanent, code: "phone-risk-failure",
            message: "phone risk answered status false without a status code or error")
    }

    private static func rank(_ disposition: ScoringError.Disposition) -> Int {
        switch disposition {
        case .retriable: return 0
        case .permanent: return 1
        case .accountLevel: return 2
        }
    }

    private static func statusText(_ code: Int) -> String {
        switch code {
        case 300: return "transaction successfully completed"
        case 301: return "transaction partially completed"
        case 500: return "transaction not attempted"
        case 501: return "not authorized"
        case 599: return "status not available"
        default: return "undocumented status"
        }
    }
}
