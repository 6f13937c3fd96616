import Foundation

/// The one error type of the scoring clients: what went wrong, and whether retrying can help.
///
/// `description` and `debugDescription` never contain credentials (tokens, API keys, Customer-Id).
public struct ScoringError: Error, Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What the caller should do with the event that failed.
    public enum Disposition: String, Sendable, Hashable, Codable {
        /// Trying the same request again later may succeed (transport, timeout, 429, 5xx, throttling).
        case retriable
        /// This event will never succeed as sent (bad input, invalid number, not resolved).
        case permanent
        /// Every request will fail until someone acts on the account (credentials, balance, permissions).
        case accountLevel = "account-level"
    }

    /// The family of failure, with its details.
    public enum Kind: Sendable, Hashable {
        /// The connection failed or broke (refused, reset, TLS, DNS).
        case transport
        /// A connect, read or overall deadline passed.
        case timeout
        /// The provider answered with a non-2xx HTTP status.
        case http(status: Int)
        /// The body could not be decoded; `path` names the field (`(body)` for the whole body).
        case decoding(path: String)
        /// A number scoring record carried a non-zero `response` code.
        case numberScoring(response: Int)
        /// A phone risk answer was not a success; `code` is the TeleSign error code or the status code.
        case phoneRisk(code: Int)
        /// The phone number is not valid E.164; no request was sent.
        case invalidPhoneNumber
        /// The number scoring response had no record for the asked msisdn.
        case missingRecord
    }

    /// The family of failure.
    public let kind: Kind
    /// Whether retrying can help, or the whole account is blocked.
    public let disposition: Disposition
    /// A short code usable as a dead-letter header: `"4"`, `"10019"`, `"599"`, `"http-429"`, `"transport"`, `"timeout"`, `"decoding"`, ….
    public let code: String
    /// A human-readable explanation, free of credentials.
    public let message: String
    /// How long the provider asked us to wait (HTTP `Retry-After`), when it said.
    public let retryAfter: Duration?
    /// The number-scoring batch request that failed as a whole, shared by every number of the batch; nil for a
    /// failure of one number or one phone-risk request.
    public var batch: UInt64?

    /// Creates an error from its parts.
    public init(kind: Kind, disposition: Disposition, code: String, message: String, retryAfter: Duration? = nil, batch: UInt64? = nil) {
        self.kind = kind
        self.disposition = disposition
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
        self.batch = batch
    }

    /// `[code] message (disposition)`, free of credentials.
    public var description: String {
        var text = "ScoringError[\(code)] \(message) (\(disposition.rawValue))"
        if let retryAfter { text += " retry after \(retryAfter)" }
        return text
    }

    /// Same as `description`.
    public var debugDescription: String { description }

    /// Whether the failure is retriable.
    public var isRetriable: Bool { disposition == .retriable }

    /// Returns a copy with every occurrence of each non-empty secret replaced by `***`.
    public func redacting(_ secrets: [String]) -> ScoringError {
        var text = message
        for secret in secrets where !secret.isEmpty {
            text = text.replacingOccurrences(of: secret, with: "***")
        }
        return ScoringError(kind: kind, disposition: disposition, code: code, message: text, retryAfter: retryAfter, batch: batch)
    }
}

extension ScoringError {
    /// A transport failure (retriable).
    public static func transport(_ message: String) -> ScoringError {
        ScoringError(kind: .transport, disposition: .retriable, code: "transport", message: message)
    }

    /// A timeout (retriable).
    public static func timeout(_ message: String) -> ScoringError {
        ScoringError(kind: .timeout, disposition: .retriable, code: "timeout", message: message)
    }

    /// A non-2xx HTTP status: 401/403 account-level, 429 and 5xx retriable, other statuses permanent.
    public static func http(status: Int, retryAfter: Duration? = nil, detail: String = "") -> ScoringError {
        let disposition: Disposition
        switch status {
        case 401, 403: disposition = .accountLevel
        case 429, 500...599: disposition = .retriable
        default: disposition = .permanent
        }
        let message = "provider answered HTTP \(status)" + (detail.isEmpty ? "" : ": \(detail)")
        return ScoringError(
            kind: .http(status: status), disposition: disposition, code: "http-\(status)",
            message: message, retryAfter: retryAfter)
    }

    /// A body that could not be decoded, naming the field at `path` (permanent).
    public static func decoding(path: String, _ message: String) -> ScoringError {
        ScoringError(
            kind: .decoding(path: path), disposition: .permanent, code: "decoding",
            message: "cannot decode \(path): \(message)")
    }

    /// A non-zero number scoring `response`: 4 and 7 retriable; 1, 5, 6 permanent; 2, 3, 8 account-level.
    public static func numberScoring(response: Int) -> ScoringError {
        let disposition = NumberScoringResponseCode(rawValue: response)?.disposition ?? .permanent
        let name = NumberScoringResponseCode(rawValue: response)?.summary ?? "unknown response code"
        return ScoringError(
            kind: .numberScoring(response: response), disposition: disposition, code: String(response),
            message: "number scoring response \(response): \(name)")
    }

    /// A phone risk failure with a TeleSign error code or status code, classified as the provider documents.
    public static func phoneRisk(code: Int, disposition: Disposition, description: String) -> ScoringError {
        ScoringError(
            kind: .phoneRisk(code: code), disposition: disposition, code: String(code),
            message: "phone risk failure \(code): \(description)")
    }

    /// A phone number that is not E.164 (permanent).
    public static func invalidPhoneNumber(_ reason: String) -> ScoringError {
        ScoringError(
            kind: .invalidPhoneNumber, disposition: .permanent, code: "invalid-number",
            message: "invalid phone number: \(reason)")
    }

    /// A number scoring response without a record for the asked msisdn (retriable: the provider may answer next time).
    public static func missingRecord() -> ScoringError {
        ScoringError(
            kind: .missingRecord, disposition: .retriable, code: "missing-record",
            message: "the number scoring response had no record for the asked msisdn")
    }

    /// Converts a `DecodingError` into a decoding error naming the field path.
    static func decoding(_ error: DecodingError) -> ScoringError {
        func path(_ keys: [any CodingKey]) -> String {
            var text = ""
            for key in keys {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
                }
            }
            return text.isEmpty ? "(body)" : text
        }
        switch error {
        case .typeMismatch(let type, let context):
            return .decoding(path: path(context.codingPath), "expected \(type)")
        case .valueNotFound(let type, let context):
            return .decoding(path: path(context.codingPath), "expected \(type), found null or nothing")
        case .keyNotFound(let key, let context):
            return .decoding(path: path(context.codingPath + [key]), "required field is missing")
        case .dataCorrupted(let context):
            let reason = context.codingPath.isEmpty ? "not valid JSON" : "invalid value"
            return .decoding(path: path(context.codingPath), reason)
        @unknown default:
            return .decoding(path: "(body)", "undecodable")
        }
    }
}

extension ScoringError {
    /// For decoding errors, a copy whose path starts with `prefix` (used when a part was decoded on its own).
    func prefixingPath(_ prefix: String) -> ScoringError {
        // Paths from nested decoders are already absolute; only relative ones are prefixed.
        guard case .decoding(let path) = kind, !path.hasPrefix(prefix) else { return self }
        let newPath = path == "(body)" ? prefix : (path.hasPrefix("[") ? prefix + path : prefix + "." + path)
        return ScoringError(
            kind: .decoding(path: newPath), disposition: disposition, code: code,
            message: message.replacingOccurrences(of: "cannot decode \(path)", with: "cannot decode \(newPath)"),
            retryAfter: retryAfter)
    }
}
