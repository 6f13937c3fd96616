import ScoringAPI

/// A strict RFC 8259 JSON reader for one event: it checks the whole document without recursion (any nesting depth,
/// any bytes, never traps) and keeps only the top-level members whose names are asked for.
///
/// Strict means: no trailing commas, no comments, no `NaN`/`Infinity`, no leading zeros, no raw control characters in
/// strings, no lone UTF-16 surrogate escapes (they encode no Unicode text), nothing after the value. Duplicate member
/// names are allowed and the last one wins (as in Python's `json` and JavaScript). The input must already be valid UTF-8.
struct EventJSONReader {
    /// The JSON type of a value, named as JSON Schema names it.
    enum Kind: String, Sendable {
        case object, array, string, number, boolean, null
    }

    /// A kept top-level member: its string value, null, or just the kind of any other value.
    enum Member: Sendable, Equatable {
        case string(String)
        case null
        case other(Kind)
    }

    /// The document: an object with its kept members, or the kind of a value that is not an object.
    enum Document: Sendable {
        case object([String: Member])
        case notAnObject(Kind)
    }

    /// Why the document is not valid JSON, with the byte offset where reading stopped.
    struct Failure: Error, Sendable {
        let reason: String
        let offset: Int
    }

    // Valid only during `read`: it points into the caller's bytes.
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0

    private init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// Reads `bytes` (valid UTF-8) as one JSON document, keeping the top-level members named in `keep`.
    static func read(_ bytes: [UInt8], keeping keep: Set<String>) throws(Failure) -> Document {
        try bytes.withUnsafeBufferPointer { buffer throws(Failure) in try read(buffer, keeping: keep) }
    }

    private static func read(_ bytes: UnsafeBufferPointer<UInt8>, keeping keep: Set<String>) throws(Failure) -> Document {
        var reader = EventJSONReader(bytes: bytes)
        reader.skipWhitespace()
        let document: Document
        if reader.peek == UInt8(ascii: "{") {
            document = .object(try reader.readTopLevelObject(keeping: keep))
        } else {
            document = .notAnObject(try reader.skipValue())
        }
        reader.skipWhitespace()
        guard reader.index == bytes.count else { throw reader.failure("unexpected data after the JSON value") }
        return document
    }

    // MARK: - Top level

    private mutating func readTopLevelObject(keeping keep: Set<String>) throws(Failure) -> [String: Member] {
        index += 1  // {
        // Room for every field of an event at once: no regrowth while reading.
        var members = [String: Member](minimumCapacity: 16)
        skipWhitespace()
        if peek == UInt8(ascii: "}") {
            index += 1
            return members
        }
        while true {
            skipWhitespace()
            guard peek == UInt8(ascii: "\"") else { throw failure("expected a member name") }
            let name = try readString(keep: true) ?? ""
            skipWhitespace()
            guard peek == UInt8(ascii: ":") else { throw failure("expected ':' after a member name") }
            index += 1
            skipWhitespace()
            let wanted = keep.contains(name)
            switch peek {
            case UInt8(ascii: "\""):
                let value = try readString(keep: wanted)
                if wanted { members[name] = .string(value ?? "") }
            case UInt8(ascii: "n"):
                try expectLiteral("null")
                if wanted { members[name] = .null }
            default:
                let kind = try skipValue()
                if wanted { members[name] = .other(kind) }
            }
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","):
                index += 1
            case UInt8(ascii: "}"):
                index += 1
                return members
            case nil:
                throw failure("unexpected end of data in an object")
            default:
                throw failure("expected ',' or '}' in an object")
            }
        }
    }

    // MARK: - Any value, iteratively

    /// Checks one value of any depth and returns its kind; containers are tracked on an explicit stack.
    private mutating func skipValue() throws(Failure) -> Kind {
        guard let first = peek else { throw failure("unexpected end of data, expected a value") }
        let kind: Kind
        switch first {
        case UInt8(ascii: "{"): kind = .object
        case UInt8(ascii: "["): kind = .array
        case UInt8(ascii: "\""): kind = .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): kind = .boolean
        case UInt8(ascii: "n"): kind = .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): kind = .number
        default: throw failure("unexpected character, expected a value")
        }

        var open: [UInt8] = []  // the containers not closed yet: `{` or `[`
        while true {
            // One value starts here.
            skipWhitespace()
            guard let byte = peek else { throw failure("unexpected end of data, expected a value") }
            switch byte {
            case UInt8(ascii: "{"):
                index += 1
                skipWhitespace()
                if peek == UInt8(ascii: "}") {
                    index += 1
                } else {
                    open.append(UInt8(ascii: "{"))
                    try skipMemberName()
                    continue
                }
            case UInt8(ascii: "["):
                index += 1
                skipWhitespace()
                if peek == UInt8(ascii: "]") {
                    index += 1
                } else {
                    open.append(UInt8(ascii: "["))
                    continue
                }
            case UInt8(ascii: "\""):
                _ = try readString(keep: false)
            case UInt8(ascii: "t"):
                try expectLiteral("true")
            case UInt8(ascii: "f"):
                try expectLiteral("false")
            case UInt8(ascii: "n"):
                try expectLiteral("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                try skipNumber()
            default:
                throw failure("unexpected character, expected a value")
            }

            // A value is complete: close containers until one needs another element.
            while true {
                guard let container = open.last else { return kind }
                skipWhitespace()
                guard let next = peek else { throw failure("unexpected end of data in a container") }
                if next == UInt8(ascii: ",") {
                    index += 1
                    if container == UInt8(ascii: "{") {
                        try skipMemberName()
                    }
                    break
                }
                let closer = container == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                guard next == closer else {
                    throw failure(container == UInt8(ascii: "{") ? "expected ',' or '}' in an object" : "expected ',' or ']' in an array")
                }
                index += 1
                open.removeLast()
            }
        }
    }

    /// Reads `"name"` and the `:` after it.
    private mutating func skipMemberName() throws(Failure) {
        skipWhitespace()
        guard peek == UInt8(ascii: "\"") else { throw failure("expected a member name") }
        _ = try readString(keep: false)
        skipWhitespace()
        guard peek == UInt8(ascii: ":") else { throw failure("expected ':' after a member name") }
        index += 1
    }

    // MARK: - Tokens

    private var peek: UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    private mutating func skipWhitespace() { JSONTokens.skipWhitespace(bytes, &index) }

    private mutating func expectLiteral(_ literal: StaticString) throws(Failure) {
        guard JSONTokens.skipLiteral(literal, bytes, &index) else { throw failure("invalid literal") }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    private mutating func skipNumber() throws(Failure) {
        do throws(JSONTokens.Failure) {
            try JSONTokens.skipNumber(bytes, &index)
        } catch {
            switch error {
            case .fractionWithoutDigit: throw failure("invalid number: no digit after '.'")
            case .exponentWithoutDigit: throw failure("invalid number: no digit in the exponent")
            default: throw failure("invalid number")
            }
        }
    }

    /// Reads a string starting at its opening quote; returns its value when `keep`, else checks it only.
    private mutating func readString(keep: Bool) throws(Failure) -> String? {
        index += 1  // opening quote
        var output: [UInt8] = []
        while true {
            guard index < bytes.count else { throw failure("unterminated string") }
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return keep ? String(decoding: output, as: UTF8.self) : nil
            case UInt8(ascii: "\\"):
                index += 1
                guard let escaped = peek else { throw failure("unterminated escape") }
                index += 1
                if let simple = JSONTokens.simpleEscape(escaped) {
                    if keep { output.append(simple) }
                } else {
                    guard escaped == UInt8(ascii: "u") else { throw failure("invalid escape") }
                    let scalar = try readUnicodeEscape()
                    if keep { output.append(contentsOf: Array(String(Character(scalar)).utf8)) }
                }
            case 0x00..<0x20:
                throw failure("control character in a string")
            default:
                if keep { output.append(byte) }
                index += 1
            }
        }
    }

    /// Reads the `XXXX` of `\uXXXX` (and a following low surrogate escape for a high surrogate).
    private mutating func readUnicodeEscape() throws(Failure) -> Unicode.Scalar {
        let unit = try readHex4()
        switch unit {
        case 0xD800...0xDBFF:
            guard bytes.count - index >= 6, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw failure("lone surrogate escape")
            }
            index += 2
            let low = try readHex4()
            guard (0xDC00...0xDFFF).contains(low) else { throw failure("lone surrogate escape") }
            let value = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            guard let scalar = Unicode.Scalar(value) else { throw failure("invalid surrogate pair") }
            return scalar
        case 0xDC00...0xDFFF:
            throw failure("lone surrogate escape")
        default:
            guard let scalar = Unicode.Scalar(unit) else { throw failure("invalid unicode escape") }
            return scalar
        }
    }

    private mutating func readHex4() throws(Failure) -> UInt32 {
        do throws(JSONTokens.Failure) {
            return try JSONTokens.hex4(bytes, &index)
        } catch {
            throw failure("invalid unicode escape")
        }
    }

    private func failure(_ reason: String) -> Failure {
        Failure(reason: reason, offset: index)
    }
}
