/// The parts of `[scheme://][userinfo@]host[:port][/rest]` that proxy and NO_PROXY decisions need.
struct URLAuthority: Sendable, Hashable {
    /// The scheme, lowercased; nil when the text has no `://`.
    var scheme: String?
    /// The text before the last `@` of the authority, still percent-encoded.
    var userinfo: Substring?
    /// The host, lowercased, without the brackets of an IPv6 literal.
    var host: String
    /// The port, when one is written.
    var port: Int?
    /// Everything from the first `/`, `?` or `#` after the authority.
    var rest: Substring

    /// Splits `text`; throws a reason (without the text) when there is no host or the port is not 1-65535.
    init(parsing text: Substring) throws(InvalidHTTPSetting) {
        var remainder = text
        if let separator = remainder.range(of: "://") {
            scheme = remainder[..<separator.lowerBound].lowercased()
            remainder = remainder[separator.upperBound...]
        }
        let authorityEnd = remainder.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? remainder.endIndex
        rest = remainder[authorityEnd...]
        var authority = remainder[..<authorityEnd]
        if let at = authority.lastIndex(of: "@") {
            userinfo = authority[..<at]
            authority = authority[authority.index(after: at)...]
        }
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw InvalidHTTPSetting("an IPv6 address lacks its closing ]") }
            host = authority[authority.index(after: authority.startIndex)..<close].lowercased()
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw InvalidHTTPSetting("unexpected text after the IPv6 address") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.firstIndex(of: ":") {
            host = authority[..<colon].lowercased()
            portText = authority[authority.index(after: colon)...]
            if portText?.contains(":") == true {
                throw InvalidHTTPSetting("an IPv6 address must be written in brackets, as [::1]")
            }
        } else {
            host = authority.lowercased()
        }
        guard !host.isEmpty else { throw InvalidHTTPSetting("no host") }
        guard !host.contains(where: \.isWhitespace) else { throw InvalidHTTPSetting("the host contains whitespace") }
        if let portText, !portText.isEmpty {
            guard let port = Self.port(portText) else { throw InvalidHTTPSetting("the port \"\(portText)\" is not 1-65535") }
            self.port = port
        }
    }

    /// `text` as a port 1-65535 written in decimal digits, or nil.
    static func port(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(text),
            (1...65535).contains(value)
        else { return nil }
        return value
    }

    /// The port requests use: the written one, else 443 for https and 80 for http; nil for other schemes.
    var effectivePort: Int? {
        if let port { return port }
        switch scheme {
        case "https": return 443
        case "http": return 80
        default: return nil
        }
    }
}
