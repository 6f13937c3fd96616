/// A `risk.error.code` as error-policy rules and dead-letter filters name it: an exact code, fixed characters
/// followed by `x`s that each stand for one ASCII digit (`11xxx`, `http-5xx`), or `*` (any code).
///
/// The two readings differ only in what they accept: ``init(ruleCode:)`` takes any text (an error policy may name
/// codes the worker does not know yet), ``init(deadLetterCode:)`` only the codes the worker writes; both match alike.
public struct ErrorCodePattern: Sendable, Hashable {
    /// The fixed leading bytes; nil for `*`.
    private let prefix: [UInt8]?
    /// How many digits follow the prefix (0: an exact code).
    private let wildcards: Int

    /// The validation slugs without a field part.
    private static let slugs: Set<String> = [
        "too-large", "invalid-utf8", "invalid-json", "not-an-object", "invalid-external-id",
        "invalid-lifecycle-event", "invalid-phone-number", "invalid-email-address", "invalid-originating-ip",
        "invalid-occurred-at",
    ]
    /// Provider codes that are words.
    private static let words: Set<String> = ["transport", "timeout", "decoding", "invalid-number", "missing-record"]

    /// Reads an error-policy code: `*`; `x`s after nothing, a digit or `-` (a pattern); else the exact code.
    public init(ruleCode code: String) {
        let bytes = Array(code.utf8)
        if code == "*" {
            prefix = nil
            wildcards = 0
            return
        }
        let wildcards = bytes.reversed().prefix(while: { $0 == UInt8(ascii: "x") }).count
        let prefix = Array(bytes.dropLast(wildcards))
        let before = prefix.last
        let isPattern = wildcards > 0
            && (before == nil || before == UInt8(ascii: "-") || (before.map { $0 >= 0x30 && $0 <= 0x39 } ?? false))
        self.prefix = isPattern ? prefix : bytes
        self.wildcards = isPattern ? wildcards : 0
    }

    /// Reads a code the worker writes (a validation slug, a provider number or word, an HTTP status), exact or with
    /// trailing `x`s for digits; nil for any other text, `*` included.
    public init?(deadLetterCode code: String) {
        let bytes = Array(code.utf8)
        let isDigit: (UInt8) -> Bool = { $0 >= 0x30 && $0 <= 0x39 }
        let isX: (UInt8) -> Bool = { $0 == UInt8(ascii: "x") }
        let isWord = Self.slugs.contains(code) || Self.words.contains(code)
        let fieldPrefix = ["missing-field:", "invalid-type:"].first { code.hasPrefix($0) }
        if isWord || fieldPrefix != nil {
            if let fieldPrefix, !LifecycleEvent.fieldNames.contains(String(code.dropFirst(fieldPrefix.count))) { return nil }
            prefix = bytes
            wildcards = 0
            return
        }
        // Provider numbers (`7`, `10019`, `11xxx`) and HTTP statuses (`http-503`, `http-5xx`): digits, then `x`s.
        let http = Array("http-".utf8)
        let body = bytes.starts(with: http) ? Array(bytes.dropFirst(http.count)) : bytes
        let digits = body.prefix(while: isDigit)
        let rest = body.dropFirst(digits.count)
        guard !body.isEmpty, body.count <= 12, rest.allSatisfy(isX), !digits.isEmpty || bytes.starts(with: http) else {
            return nil
        }
        if bytes.starts(with: http), body.count != 3 || digits.first.map({ $0 < UInt8(ascii: "1") || $0 > UInt8(ascii: "5") }) ?? false {
            return nil
        }
        prefix = Array(bytes.dropLast(rest.count))
        wildcards = rest.count
    }

    /// Higher is more specific: exact codes first, then patterns by fixed length, then `*`.
    public var specificity: Int {
        guard let prefix else { return -1 }
        return wildcards == 0 ? Int.max : prefix.count
    }

    /// Whether the code `code` (its UTF-8 bytes) matches.
    public func matches(_ code: [UInt8]) -> Bool {
        guard let prefix else { return true }
        guard code.count == prefix.count + wildcards, code.starts(with: prefix) else { return false }
        return code[prefix.count...].allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }
}
