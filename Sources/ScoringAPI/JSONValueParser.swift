/// A strict RFC 8259 parser from UTF-8 bytes straight to ``JSONValue``: one pass, no `Decoder` machinery, for the
/// provider answers the clients keep raw.
struct JSONValueParser {
    /// Why the bytes are not one JSON value.
    struct Failure: Error, Sendable {
        /// What was wrong.
        let reason: String
        /// Where, as a byte offset.
        let offset: Int
    }

    /// A parsed value with the byte ranges it came from: its own, and those of its members or elements.
    struct Document: Sendable {
        /// The value.
        let value: JSONValue
        /// Where the value lies in the bytes (whitespace around it excluded).
        let range: Range<Int>
        /// Where each member of a top-level object lies (the last one for a repeated name); empty otherwise.
        let memberRanges: [String: Range<Int>]
        /// Where each element of a top-level array lies, in order; empty otherwise.
        let elementRanges: [Range<Int>]
    }

    // Valid only during `parse`: it points into the caller's bytes.
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0
    private var memberRanges: [String: Range<Int>] = [:]
    private var elementRanges: [Range<Int>] = []

    /// Parses `bytes` as exactly one JSON value (whitespace around it allowed).
    static func parse(_ bytes: [UInt8]) throws(Failure) -> JSONValue {
        try bytes.withUnsafeBufferPointer { buffer throws(Failure) in try parse(buffer) }
    }

    /// Parses the bytes `buffer` points to as exactly one JSON value (whitespace around it allowed).
    static func parse(_ buffer: UnsafeBufferPointer<UInt8>) throws(Failure) -> JSONValue {
        try document(buffer).value
    }

    /// Parses the bytes `buffer` points to as exactly one JSON value, noting where it and its children lie.
    static func document(_ buffer: UnsafeBufferPointer<UInt8>) throws(Failure) -> Document {
        var parser = JSONValueParser(bytes: buffer)
        parser.skipWhitespace()
        let start = parser.index
        let value = try parser.value()
        let range = start..<parser.index
        parser.skipWhitespace()
        guard parser.index == buffer.count else { throw Failure(reason: "unexpected data after the value", offset: parser.index) }
        return Document(value: value, range: range, memberRanges: parser.memberRanges, elementRanges: parser.elementRanges)
    }

    private init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    private mutating func value() throws(Failure) -> JSONValue {
        guard index < bytes.count else { throw fail("unexpected end of data") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return try number()
        }
    }

    private mutating func object() throws(Failure) -> JSONValue {
        try enter()
        index += 1
        // Most objects of the provider answers have a handful of members: one allocation, no regrowth.
        var members = [String: JSONValue](minimumCapacity: 8)
        skipWhitespace()
        if peek(UInt8(ascii: "}")) {
            index += 1
            depth -= 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard peek(UInt8(ascii: "\"")) else { throw fail("expected a member name") }
            let name = try string()
            skipWhitespace()
            guard peek(UInt8(ascii: ":")) else { throw fail("expected ':'") }
            index += 1
            skipWhitespace()
            let start = index
            members[name] = try value()
            if depth == 1 { memberRanges[name] = start..<index }
            skipWhitespace()
            if peek(UInt8(ascii: ",")) {
                index += 1
            } else if peek(UInt8(ascii: "}")) {
                index += 1
                depth -= 1
                return .object(members)
            } else {
                throw fail("expected ',' or '}'")
            }
        }
    }

    private mutating func array() throws(Failure) -> JSONValue {
        try enter()
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek(UInt8(ascii: "]")) {
            index += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            let start = index
            elements.append(try value())
            if depth == 1 { elementRanges.append(start..<index) }
            skipWhitespace()
            if peek(UInt8(ascii: ",")) {
                index += 1
            } else if peek(UInt8(ascii: "]")) {
                index += 1
                depth -= 1
                return .array(elements)
            } else {
                throw fail("expected ',' or ']'")
            }
        }
    }

    private mutating func string() throws(Failure) -> String {
        index += 1
        let start = index
        // Fast path: no escapes.
        while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\"), bytes[index] >= 0x20 {
            index += 1
        }
        guard index < bytes.count else { throw fail("unterminated string") }
        if bytes[index] == UInt8(ascii: "\"") {
            let text = try utf8(start..<index)
            index += 1
            return text
        }
        var scalars = try utf8(start..<index)
        while true {
            guard index < bytes.count else { throw fail("unterminated string") }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return scalars
            }
            guard byte >= 0x20 else { throw fail("control character in a string") }
            if byte != UInt8(ascii: "\\") {
                let runStart = index
                while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\"), bytes[index] >= 0x20 {
                    index += 1
                }
                scalars += try utf8(runStart..<index)
                continue
            }
            index += 1
            guard index < bytes.count else { throw fail("unterminated escape") }
            let escape = bytes[index]
            index += 1
            if let simple = JSONTokens.simpleEscape(escape) {
                scalars.unicodeScalars.append(Unicode.Scalar(simple))
                continue
            }
            guard escape == UInt8(ascii: "u") else { throw fail("invalid escape") }
            var code = try hex4()
            if (0xD800...0xDBFF).contains(code) {
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw fail("lone high surrogate")
                }
                index += 2
                let low = try hex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw fail("invalid low surrogate") }
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(code) {
                throw fail("lone low surrogate")
            }
            guard let scalar = Unicode.Scalar(code) else { throw fail("invalid \\u escape") }
            scalars.unicodeScalars.append(scalar)
        }
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        do throws(JSONTokens.Failure) {
            return try JSONTokens.hex4(bytes, &index)
        } catch {
            throw fail(error == .shortUnicodeEscape ? "short \\u escape" : "invalid hex digit")
        }
    }

    private mutating func number() throws(Failure) -> JSONValue {
        let start = index
        let isInteger: Bool
        do throws(JSONTokens.Failure) {
            isInteger = try JSONTokens.skipNumber(bytes, &index)
        } catch {
            switch error {
            case .fractionWithoutDigit: throw fail("digits expected after '.'")
            case .exponentWithoutDigit: throw fail("digits expected in the exponent")
            default: throw fail("invalid value")
            }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if isInteger, let integer = Int64(text) { return .integer(integer) }
        guard let double = Double(text) else { throw fail("invalid number") }
        return .double(double)
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        guard JSONTokens.skipLiteral(word, bytes, &index) else { throw fail("invalid literal") }
    }

    private mutating func enter() throws(Failure) {
        depth += 1
        guard depth <= 512 else { throw fail("nested too deeply") }
    }

    private func utf8(_ range: Range<Int>) throws(Failure) -> String {
        guard let text = JSONTokens.string(UnsafeBufferPointer(rebasing: bytes[range])) else {
            throw fail("invalid UTF-8 in a string")
        }
        return text
    }

    private func peek(_ byte: UInt8) -> Bool { index < bytes.count && bytes[index] == byte }
    private mutating func skipWhitespace() { JSONTokens.skipWhitespace(bytes, &index) }

    private func fail(_ reason: String) -> Failure { Failure(reason: reason, offset: index) }
}
