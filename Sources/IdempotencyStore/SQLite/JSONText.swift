/// The JSON texts the SQLite statements read with `json_each`: arrays of strings and of claim rows.
///
/// Written by hand: Foundation's `JSONEncoder` for these arrays took 1.3 % of the worker's CPU samples in a backlog
/// run (`perf`, 40,000 events), most of it in its generic container machinery, for texts that are a few strings and
/// integers each.
enum JSONText {
    /// `strings` as a JSON array of strings.
    static func array(_ strings: [String]) -> String {
        var text: [UInt8] = [UInt8(ascii: "[")]
        text.reserveCapacity(strings.reduce(2) { $0 + $1.utf8.count + 3 })
        for (index, string) in strings.enumerated() {
            if index > 0 { text.append(UInt8(ascii: ",")) }
            appendString(string, to: &text)
        }
        text.append(UInt8(ascii: "]"))
        return String(decoding: text, as: UTF8.self)
    }

    /// Each request as `[externalId, topic, partition, offset]`, or `[externalId]` without a position.
    static func claimRows(_ requests: [ClaimRequest]) -> String {
        var text: [UInt8] = [UInt8(ascii: "[")]
        text.reserveCapacity(requests.count * 48)
        for (index, request) in requests.enumerated() {
            if index > 0 { text.append(UInt8(ascii: ",")) }
            text.append(UInt8(ascii: "["))
            appendString(request.externalId, to: &text)
            if let position = request.position {
                text.append(UInt8(ascii: ","))
                appendString(position.topic, to: &text)
                text.append(contentsOf: ",\(position.partition),\(position.offset)".utf8)
            }
            text.append(UInt8(ascii: "]"))
        }
        text.append(UInt8(ascii: "]"))
        return String(decoding: text, as: UTF8.self)
    }

    /// Appends `string` as a JSON string: quotes, backslashes and control characters escaped, the rest as UTF-8.
    static func appendString(_ string: String, to text: inout [UInt8]) {
        text.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                text.append(UInt8(ascii: "\\"))
                text.append(byte)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                text.append(contentsOf: Array("\\u00".utf8))
                text.append(hex[Int(byte >> 4)])
                text.append(hex[Int(byte & 0x0F)])
            default:
                text.append(byte)
            }
        }
        text.append(UInt8(ascii: "\""))
    }
}
