import ScoringAPI

/// Hides phone numbers in logs and listings: the country code and the last two digits stay, the rest become `*`.
public enum PhoneNumberMask {
    /// `+436501234567` becomes `+43********67`; text that is not `+` and digits is masked whole but for its length.
    public static func mask(_ e164: String) -> String {
        let digits = Array(e164.utf8.dropFirst())
        guard e164.first == "+", digits.count >= 4, digits.allSatisfy({ (0x30...0x39).contains($0) }) else {
            return String(repeating: "*", count: e164.count)
        }
        let codeLength = countryCodeLength(digits)
        let kept = String(decoding: digits.prefix(codeLength), as: UTF8.self)
        let last = String(decoding: digits.suffix(2), as: UTF8.self)
        return "+" + kept + String(repeating: "*", count: max(0, digits.count - codeLength - 2)) + last
    }

    /// Masks every E.164-looking run (`+` and 8 to 15 digits) inside free text.
    public static func maskNumbers(in text: String) -> String {
        guard text.contains("+") else { return text }
        return text.replacing(#/\+[1-9][0-9]{7,14}(?![0-9])/#) { match in mask(String(match.output)) }
    }

    /// The length of the ITU calling code at the start of `digits`: 1 (`1`, `7`), 2 (the listed codes) or 3.
    private static func countryCodeLength(_ digits: [UInt8]) -> Int {
        guard let first = digits.first else { return 0 }
        if first == UInt8(ascii: "1") || first == UInt8(ascii: "7") { return 1 }
        guard digits.count >= 2 else { return 1 }
        let two = Int(first - 0x30) * 10 + Int(digits[1] - 0x30)
        return twoDigitCodes.contains(two) ? 2 : 3
    }

    private static let twoDigitCodes: Set<Int> = [
        20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54, 55, 56, 57, 58,
        60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98,
    ]
}

extension PhoneNumber {
    /// The number for logs: country code and last two digits kept, e.g. `+43********67`.
    public var masked: String { PhoneNumberMask.mask(e164) }
}
