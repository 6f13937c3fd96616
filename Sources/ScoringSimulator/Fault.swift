/// A fault chosen by the last six digits of a number (see docs/scoring-sim.md for the table).
public enum Fault: Sendable, Hashable {
    /// `99990C` (C = 1...8): number scoring answers `response` C for this msisdn.
    case numberScoringCode(Int)
    /// `99991N` (N = 1...9): the first N calls per endpoint fail (number scoring code 4, phone risk error 10019), then succeed.
    case transient(failures: Int)
    /// `99992K` (K = 0...9): a phone risk failure or partial answer, see `PhoneRiskFailure`.
    case phoneRisk(PhoneRiskFailure)
    /// `99993H` (H = 1...6): an HTTP-level fault on either endpoint, see `HTTPFault`.
    case http(HTTPFault)
    /// `999940`: number scoring leaves this msisdn's record out of the response.
    case omitRecord

    /// Phone risk outcomes selected by `99992K`.
    public enum PhoneRiskFailure: Int, Sendable, Hashable, CaseIterable {
        /// 0: status false, error 10012 (feature not enabled): account-level.
        case featureNotEnabled = 0
        /// 1: status false, status code 500 (not attempted), no errors: permanent.
        case notAttempted = 1
        /// 2: status false, status code 501 (not authorized): account-level.
        case notAuthorized = 2
        /// 3: status false, status code 599 (status not available): retriable.
        case statusNotAvailable = 3
        /// 4: status false, error 10019 (rate limit): retriable.
        case rateLimited = 4
        /// 5: status false, error 10010 (account suspended): account-level.
        case suspended = 5
        /// 6: status false, error 10020 (hard cap reached): account-level.
        case hardCap = 6
        /// 7: status false, error 11001 (invalid field): permanent.
        case invalidField = 7
        /// 8: status false, error 12001 (missing field): permanent.
        case missingField = 8
        /// 9: status true, status code 301 (partially complete): a success flagged partial.
        case partial = 9

        /// The status code and errors the sandbox answers with.
        var answer: (status: Int, errors: [(Int, String)]) {
            switch self {
            case .featureNotEnabled: return (501, [(10012, "Feature not enabled for this customer")])
            case .notAttempted: return (500, [])
            case .notAuthorized: return (501, [])
            case .statusNotAvailable: return (599, [])
            case .rateLimited: return (500, [(10019, "Rate limit exceeded")])
            case .suspended: return (501, [(10010, "Customer account suspended")])
            case .hardCap: return (501, [(10020, "Hard cap reached")])
            case .invalidField: return (500, [(11001, "Invalid value for parameter phoneNumber")])
            case .missingField: return (500, [(12001, "Missing required parameter")])
            case .partial: return (301, [])
            }
        }
    }

    /// HTTP faults selected by `99993H`.
    public enum HTTPFault: Int, Sendable, Hashable, CaseIterable {
        /// 1: HTTP 429 with `Retry-After: 1`.
        case tooManyRequests = 1
        /// 2: HTTP 500 with a JSON error.
        case internalError = 2
        /// 3: HTTP 503 with `Retry-After: 2`.
        case unavailable = 3
        /// 4: HTTP 502 with an HTML page.
        case badGatewayHTML = 4
        /// 5: HTTP 200 with truncated JSON.
        case truncatedJSON = 5
        /// 6: HTTP 403.
        case forbidden = 6
    }

    /// The last six digits that select this fault (the inverse of ``of(msisdn:)``).
    public var suffix: String {
        switch self {
        case .numberScoringCode(let code): "99990\(code)"
        case .transient(let failures): "99991\(failures)"
        case .phoneRisk(let failure): "99992\(failure.rawValue)"
        case .http(let fault): "99993\(fault.rawValue)"
        case .omitRecord: "999940"
        }
    }

    /// The fault a number's digits select, or nil for a normal number.
    public static func of(msisdn: String) -> Fault? {
        let utf8 = Array(msisdn.utf8)
        guard utf8.count >= 10 else { return nil }
        let tail = utf8.suffix(6)
        guard tail.starts(with: Array("9999".utf8)) else { return nil }
        let kind = Int(tail[tail.startIndex + 4]) - 48
        let digit = Int(tail[tail.startIndex + 5]) - 48
        guard (0...9).contains(kind), (0...9).contains(digit) else { return nil }
        switch kind {
        case 0 where (1...8).contains(digit): return .numberScoringCode(digit)
        case 1 where digit >= 1: return .transient(failures: digit)
        case 2: return PhoneRiskFailure(rawValue: digit).map { .phoneRisk($0) }
        case 3: return HTTPFault(rawValue: digit).map { .http($0) }
        case 4 where digit == 0: return .omitRecord
        default: return nil
        }
    }
}
