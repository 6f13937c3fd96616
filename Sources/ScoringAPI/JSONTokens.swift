/// The byte-level pieces of strict RFC 8259 reading that ``JSONValueParser`` and the event reader of RiskEvents share:
/// whitespace, literals, numbers, `\u` hex digits and one-character escapes. Each reader words its own failures.
///
/// Every piece reads `bytes` at `index` and moves `index` past what it read; on a failure `index` is where reading
/// stopped. The pieces are inlined into both readers (they run per byte of every event and provider answer).
public enum JSONTokens {
    /// Which piece did not scan.
    public enum Failure: Error, Sendable, Equatable {
        /// No digit where a number starts (after an optional `-`).
        case numberWithoutDigit
        /// No digit after a number's `.`.
        case fractionWithoutDigit
        /// No digit in a number's exponent.
        case exponentWithoutDigit
        /// Fewer than four bytes left for the hex digits of a `\u` escape.
        case shortUnicodeEscape
        /// A byte among the four of a `\u` escape that is not a hex digit.
        case invalidHexDigit
    }

    /// Whether `byte` is an ASCII digit.
    @inlinable @inline(__always)
    public static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// Moves `index` past JSON whitespace (space, tab, line feed, carriage return).
    @inlinable @inline(__always)
    public static func skipWhitespace(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int) {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    /// Moves `index` past `literal` when the bytes there are exactly it and returns true; else leaves `index`.
    @inlinable @inline(__always)
    public static func skipLiteral(_ literal: StaticString, _ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard bytes.count - index >= count else { return false }
        for offset in 0..<count where bytes[index + offset] != literal.utf8Start[offset] {
            return false
        }
        index += count
        return true
    }

    /// Moves `index` past the number there, `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`; returns whether it is
    /// an integer (no fraction, no exponent).
    @inlinable @inline(__always)
    @discardableResult
    public static func skipNumber(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int) throws(Failure) -> Bool {
        var isInteger = true
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { throw .numberWithoutDigit }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw .fractionWithoutDigit }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw .exponentWithoutDigit }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        return isInteger
    }

    /// Reads the four hex digits of a `\u` escape (the bytes after the `u`).
    @inlinable @inline(__always)
    public static func hex4(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int) throws(Failure) -> UInt32 {
        guard bytes.count - index >= 4 else { throw .shortUnicodeEscape }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw .invalidHexDigit
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// The byte a one-character escape stands for (`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`: the byte after
    /// the backslash); nil for any other byte, `u` included.
    @inlinable @inline(__always)
    public static func simpleEscape(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "\""): UInt8(ascii: "\"")
        case UInt8(ascii: "\\"): UInt8(ascii: "\\")
        case UInt8(ascii: "/"): UInt8(ascii: "/")
        case UInt8(ascii: "b"): 0x08
        case UInt8(ascii: "f"): 0x0C
        case UInt8(ascii: "n"): 0x0A
        case UInt8(ascii: "r"): 0x0D
        case UInt8(ascii: "t"): 0x09
        default: nil
        }
    }

    /// `bytes` as a string when they are valid UTF-8, else nil.
    public static func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        // ASCII, most of what providers and events send, skips `String(validating:)`, which is generic over the
        // encoding and looked up its metadata on every call: 29 against 69 ns for a 13-byte string (issue 16).
        isASCII(bytes) ? String(decoding: bytes, as: UTF8.self) : String(validating: bytes, as: UTF8.self)
    }

    /// Whether `bytes` are valid UTF-8.
    public static func isValidUTF8(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { isASCII($0) || String(validating: $0, as: UTF8.self) != nil }
    }

    private static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var high: UInt8 = 0
        for byte in bytes { high |= byte }
        return high < 0x80
    }
}
