import AsyncHTTPClient

/// An HTTP proxy that provider requests are tunnelled through with `CONNECT host:port` (TLS runs end to end).
public struct HTTPProxy: Sendable, Hashable, CustomStringConvertible {
    /// Basic credentials sent to the proxy as `Proxy-Authorization`; `description` never shows them.
    public struct Credentials: Sendable, Hashable, CustomStringConvertible {
        /// The user name, percent-decoded.
        public var username: String
        /// The password, percent-decoded (may be empty).
        public var password: String

        /// Creates credentials.
        public init(username: String, password: String) {
            self.username = username
            self.password = password
        }

        /// Redacted.
        public var description: String { "***" }
    }

    /// The port used when the URL has none: 1080, as curl does.
    public static let defaultPort = 1080

    /// The proxy's host name or address (an IPv6 address without brackets).
    public var host: String
    /// The proxy's port.
    public var port: Int
    /// Credentials for the proxy, when the URL has them.
    public var credentials: Credentials?

    /// Creates a proxy from its parts.
    public init(host: String, port: Int = HTTPProxy.defaultPort, credentials: Credentials? = nil) {
        self.host = host
        self.port = port
        self.credentials = credentials
    }

    /// Parses `[http://][user[:password]@]host[:port][/]` as curl does (percent-encoded credentials, port 1080 by
    /// default); errors quote the URL with its credentials hidden.
    public init(url text: String) throws(InvalidHTTPSetting) {
        // Other schemes are refused: AsyncHTTPClient speaks only plain HTTP to an HTTP proxy (TLS to the proxy,
        // `https://`, is not supported), and SOCKS would need its own settings.
        let trimmed = text.trimmingWhitespace()
        let shown = "proxy URL \"\(Self.redacted(trimmed))\""
        guard !trimmed.isEmpty else { throw InvalidHTTPSetting("proxy URL is empty") }
        let parts: URLAuthority
        do {
            parts = try URLAuthority(parsing: trimmed)
        } catch {
            throw InvalidHTTPSetting("\(shown): \(error.message); expected http://[user:password@]host[:port]")
        }
        if let scheme = parts.scheme, scheme != "http" {
            throw InvalidHTTPSetting(
                "\(shown): the scheme \"\(scheme)\" is not supported; only http:// proxies are (https requests still "
                    + "run TLS end to end through them)")
        }
        guard parts.rest.isEmpty || parts.rest == "/" else {
            throw InvalidHTTPSetting("\(shown): unexpected path, query or fragment; expected http://[user:password@]host[:port]")
        }
        var credentials: Credentials?
        if let userinfo = parts.userinfo {
            let colon = userinfo.firstIndex(of: ":")
            let user = userinfo[..<(colon ?? userinfo.endIndex)]
            let password = colon.map { userinfo[userinfo.index(after: $0)...] } ?? ""
            guard let username = user.removingPercentEncodingStrictly(),
                let decodedPassword = password.removingPercentEncodingStrictly()
            else { throw InvalidHTTPSetting("\(shown): the credentials have an invalid percent-encoding") }
            guard !username.isEmpty else { throw InvalidHTTPSetting("\(shown): the credentials have no user name") }
            credentials = Credentials(username: username, password: decodedPassword)
        }
        self.init(host: parts.host, port: parts.port ?? Self.defaultPort, credentials: credentials)
    }

    /// `http://host:port`, with `***@` for credentials.
    public var description: String {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return "http://\(credentials == nil ? "" : "***@")\(host):\(port)"
    }

    /// The proxy as AsyncHTTPClient configures it.
    var configuration: HTTPClient.Configuration.Proxy {
        .server(
            host: host, port: port,
            authorization: credentials.map { .basic(username: $0.username, password: $0.password) })
    }

    /// `text` with everything between `://` (or the start) and the authority's last `@` replaced by `***`.
    static func redacted(_ text: Substring) -> String {
        let start = text.range(of: "://")?.upperBound ?? text.startIndex
        let authorityEnd = text[start...].firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? text.endIndex
        guard let at = text[start..<authorityEnd].lastIndex(of: "@") else { return String(text) }
        return String(text[..<start]) + "***" + String(text[at...])
    }
}

extension String {
    /// The string without leading and trailing whitespace.
    func trimmingWhitespace() -> Substring {
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace }) else {
            return ""
        }
        return self[first...last]
    }
}

extension Substring {
    /// The text with `%XX` sequences decoded as UTF-8; nil for a malformed sequence or invalid UTF-8.
    func removingPercentEncodingStrictly() -> String? {
        var bytes: [UInt8] = []
        var iterator = utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue) else {
                return nil
            }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
