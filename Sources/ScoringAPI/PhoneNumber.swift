/// A phone number validated as E.164: `+`, then 8 to 15 digits, the first not 0.
public struct PhoneNumber: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The number with its leading `+`, e.g. `+436501234567`.
    public let e164: String

    /// The same digits without `+` (country code and subscriber number), e.g. `436501234567`.
    public var msisdn: String { String(e164.dropFirst()) }

    /// The number in E.164 form.
    public var description: String { e164 }

    /// Validates `text` after removing spaces, dashes, dots and parentheses; throws a permanent error when it is not E.164.
    public init(_ text: String) throws(ScoringError) {
        var cleaned = ""
        cleaned.reserveCapacity(text.utf8.count)
        for character in text where !Self.ignorable.contains(character) {
            cleaned.append(character)
        }
        guard cleaned.first == "+" else {
            throw ScoringError.invalidPhoneNumber("the number must start with + and the country code")
        }
        let digits = cleaned.dropFirst()
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw ScoringError.invalidPhoneNumber("only digits may follow +")
        }
        guard (8...15).contains(digits.count) else {
            throw ScoringError.invalidPhoneNumber("E.164 numbers have 8 to 15 digits, this one has \(digits.count)")
        }
        guard digits.first != "0" else {
            throw ScoringError.invalidPhoneNumber("a country code never starts with 0")
        }
        e164 = cleaned
    }

    /// Validates an msisdn (digits only, no `+`), as returned by the number scoring API.
    public init(msisdn: String) throws(ScoringError) {
        guard msisdn.first != "+" else {
            throw ScoringError.invalidPhoneNumber("an msisdn has no leading +")
        }
        try self.init("+" + msisdn)
    }

    /// Decodes an E.164 string and validates it.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(text)
    }

    /// Encodes the E.164 form.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(e164)
    }

    private static let ignorable: Set<Character> = [" ", "-", ".", "(", ")", "\u{00A0}", "\t"]
}
