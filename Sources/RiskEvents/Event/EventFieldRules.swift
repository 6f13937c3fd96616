/// The loose format rules for the optional event fields, written to accept exactly what the patterns and formats of
/// schemas/lifecycle-event.schema.json accept (the corpus test checks both on the same files).
enum EventFieldRules {
    /// `local@domain`: exactly one `@`, both sides non-empty, no spaces or ASCII control characters.
    /// Schema: `^(?!.*\n)[^@\u0000-\u0020\u007F]+@[^@\u0000-\u0020\u007F]+$`.
    static func isEmailAddress(_ text: String) -> Bool {
        var atCount = 0
        var localLength = 0
        var domainLength = 0
        for scalar in text.unicodeScalars {
            if scalar == "@" {
                atCount += 1
                guard atCount == 1 else { return false }
                continue
            }
            guard scalar.value > 0x20, scalar.value != 0x7F else { return false }
            if atCount == 0 { localLength += 1 } else { domainLength += 1 }
        }
        return atCount == 1 && localLength > 0 && domainLength > 0
    }

    /// An IPv4 dotted quad (0 to 255, no leading zeros) or a loosely checked IPv6 address: 3 to 8 groups of at most
    /// 4 hex digits separated by `:` (empty groups allowed, for `::`), the last group possibly an IPv4 dotted quad.
    /// Schema: `^(?!.*\n)(?:IPV4|(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{0,4}|IPV4))$`.
    static func isIPAddress(_ text: String) -> Bool {
        let scalars = Array(text.unicodeScalars)
        if isIPv4(scalars[...]) { return true }
        let groups = scalars.split(separator: ":", omittingEmptySubsequences: false)
        guard (3...8).contains(groups.count), let last = groups.last else { return false }
        for group in groups.dropLast() where !isHexGroup(group) {
            return false
        }
        return isHexGroup(last) || isIPv4(last)
    }

    private static func isHexGroup(_ group: ArraySlice<Unicode.Scalar>) -> Bool {
        group.count <= 4 && group.allSatisfy { $0.properties.isASCIIHexDigit }
    }

    /// `(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])` four times, separated by dots.
    private static func isIPv4(_ scalars: ArraySlice<Unicode.Scalar>) -> Bool {
        let parts = scalars.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy(isASCIIDigit) else { return false }
            if part.count > 1, part.first == "0" { return false }
            var value = 0
            for scalar in part { value = value * 10 + Int(scalar.value - 0x30) }
            guard value <= 255 else { return false }
        }
        return true
    }

    /// RFC 3339 `date-time`, as the `rfc3339-validator` package checks it for jsonschema's `date-time` format:
    /// `YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)`, `T` and `Z` in either case, hours 00-23, minutes and seconds
    /// 00-59 (no leap second), year 0001 or later, the day valid for the month and year.
    static func isRFC3339DateTime(_ text: String) -> Bool {
        let s = Array(text.utf8)
        // The fixed part: YYYY-MM-DDTHH:MM:SS is 19 bytes.
        guard s.count >= 20 else { return false }
        func digits(_ range: Range<Int>) -> Int? {
            var value = 0
            for i in range {
                guard s[i] >= 0x30, s[i] <= 0x39 else { return nil }
                value = value * 10 + Int(s[i] - 0x30)
            }
            return value
        }
        guard let year = digits(0..<4), s[4] == UInt8(ascii: "-"),
            let month = digits(5..<7), s[7] == UInt8(ascii: "-"),
            let day = digits(8..<10), s[10] == UInt8(ascii: "T") || s[10] == UInt8(ascii: "t"),
            let hour = digits(11..<13), s[13] == UInt8(ascii: ":"),
            let minute = digits(14..<16), s[16] == UInt8(ascii: ":"),
            let second = digits(17..<19)
        else { return false }
        guard year >= 1, (1...12).contains(month), hour <= 23, minute <= 59, second <= 59 else { return false }
        guard day >= 1, day <= daysIn(month: month, year: year) else { return false }

        var i = 19
        if s[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < s.count, s[i] >= 0x30, s[i] <= 0x39 { i += 1 }
            guard i > start else { return false }
        }
        guard i < s.count else { return false }
        if s[i] == UInt8(ascii: "Z") || s[i] == UInt8(ascii: "z") {
            return i + 1 == s.count
        }
        guard s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-"), s.count - i == 6 else { return false }
        guard let offsetHour = digits((i + 1)..<(i + 3)), s[i + 3] == UInt8(ascii: ":"),
            let offsetMinute = digits((i + 4)..<(i + 6))
        else { return false }
        return offsetHour <= 23 && offsetMinute <= 59
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2:
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
            return leap ? 29 : 28
        case 4, 6, 9, 11:
            return 30
        default:
            return 31
        }
    }

    private static func isASCIIDigit(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value >= 0x30 && scalar.value <= 0x39
    }
}
