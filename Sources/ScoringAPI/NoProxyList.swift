#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// The rules are curl's: entries are separated by commas or whitespace; `*` matches every host; a name matches itself
// and every name below it (`example.com` and `.example.com` both match `example.com` and `api.example.com`, not
// `notexample.com`), case-insensitively, ignoring a trailing dot (`*.example.com` is read as `.example.com`); an IPv4
// or IPv6 address matches itself, or a network with `/bits` (`10.0.0.0/8`, `fd00::/8`); names never match addresses
// (no DNS look-up). Added to curl's, which ignores ports: `host:port` (`[::1]:8443`) matches only that port.

/// Hosts reached directly although a proxy is set, read with curl's `NO_PROXY` rules plus an optional port.
public struct NoProxyList: Sendable, Hashable, CustomStringConvertible {
    /// One understood entry of the list.
    public enum Entry: Sendable, Hashable {
        /// `*`: every host.
        case everyHost
        /// A name and the names below it, lowercased without leading or trailing dots; `port` nil for any port.
        case domain(String, port: Int?)
        /// An address network: the address bytes (4 or 16), the leading bits compared, and the port (nil: any).
        case network([UInt8], prefixLength: Int, port: Int?)
    }

    /// The entries understood, in list order.
    public let entries: [Entry]
    /// The entries that could not be understood and are ignored (bad port or prefix length), for a warning.
    public let ignored: [String]
    /// The list as given.
    public let text: String

    /// Reads a list such as `localhost,127.0.0.1,.internal.example,10.0.0.0/8,api.example.com:8443`; unreadable entries go to ``ignored``.
    public init(_ text: String = "") {
        self.text = text
        var entries: [Entry] = []
        var ignored: [String] = []
        for token in text.split(whereSeparator: { $0 == "," || $0.isWhitespace }) {
            if let entry = Self.entry(token) {
                entries.append(entry)
            } else {
                ignored.append(String(token))
            }
        }
        self.entries = entries
        self.ignored = ignored
    }

    /// The list as given.
    public var description: String { text }

    /// Whether nothing is listed.
    public var isEmpty: Bool { entries.isEmpty }

    /// Whether requests to `host` (a name, an IPv4 address, an IPv6 address with or without brackets) on `port` bypass the proxy.
    public func matches(host: String, port: Int) -> Bool {
        var name = Substring(host.lowercased())
        if name.hasPrefix("["), name.hasSuffix("]") { name = name.dropFirst().dropLast() }
        let address = Self.address(name)
        if address == nil, name.hasSuffix(".") { name = name.dropLast() }
        guard !name.isEmpty else { return false }
        for entry in entries {
            switch entry {
            case .everyHost:
                return true
            case .domain(let domain, let entryPort):
                guard address == nil, entryPort == nil || entryPort == port else { continue }
                if name == domain || (name.hasSuffix(domain) && name.dropLast(domain.count).hasSuffix(".")) {
                    return true
                }
            case .network(let network, let prefixLength, let entryPort):
                guard let address, entryPort == nil || entryPort == port else { continue }
                if Self.address(address, isIn: network, prefixLength: prefixLength) { return true }
            }
        }
        return false
    }

    /// Whether requests to `url`'s host and port (default 443 for https, 80 for http) bypass the proxy; false if unparsable.
    public func matches(url: String) -> Bool {
        guard let parts = try? URLAuthority(parsing: url.trimmingWhitespace()), let port = parts.effectivePort else {
            return false
        }
        return matches(host: parts.host, port: port)
    }

    // MARK: - reading entries

    /// The entry for one token, or nil when it cannot be read.
    static func entry(_ token: Substring) -> Entry? {
        if token == "*" { return .everyHost }
        var text = Substring(token.lowercased())
        var port: Int?
        if text.hasPrefix("[") {
            // [v6] or [v6]:port, optionally with /bits inside or after the brackets.
            guard let close = text.firstIndex(of: "]") else { return nil }
            let after = text[text.index(after: close)...]
            var inside = text[text.index(after: text.startIndex)..<close]
            if after.hasPrefix(":") {
                guard let value = URLAuthority.port(after.dropFirst()) else { return nil }
                port = value
            } else if after.hasPrefix("/") {
                inside = text[text.index(after: text.startIndex)...].filter { $0 != "]" }[...]
            } else if !after.isEmpty {
                return nil
            }
            return network(inside, port: port)
        }
        let colons = text.count { $0 == ":" }
        if colons >= 2 { return network(text, port: nil) }
        if colons == 1, let colon = text.firstIndex(of: ":") {
            guard let value = URLAuthority.port(text[text.index(after: colon)...]) else { return nil }
            port = value
            text = text[..<colon]
        }
        if text.contains("/") || address(text) != nil { return network(text, port: port) }
        if text.hasPrefix("*.") { text = text.dropFirst() }
        while text.hasPrefix(".") { text = text.dropFirst() }
        while text.hasSuffix(".") { text = text.dropLast() }
        guard !text.isEmpty, !text.contains("*") else { return nil }
        return .domain(String(text), port: port)
    }

    /// An address with an optional `/bits` as a network entry, or nil when either part is invalid.
    private static func network(_ text: Substring, port: Int?) -> Entry? {
        let slash = text.firstIndex(of: "/")
        guard let bytes = address(text[..<(slash ?? text.endIndex)]) else { return nil }
        var prefixLength = bytes.count * 8
        if let slash {
            let bits = text[text.index(after: slash)...]
            guard !bits.isEmpty, bits.count <= 3, bits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(bits),
                value <= bytes.count * 8
            else { return nil }
            prefixLength = value
        }
        return .network(bytes, prefixLength: prefixLength, port: port)
    }

    // MARK: - addresses

    /// The bytes of an IPv4 (four decimal parts) or IPv6 address, or nil for anything else.
    static func address(_ text: Substring) -> [UInt8]? {
        if text.contains(":") { return ipv6(String(text)) }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                let value = UInt8(part)
            else { return nil }
            bytes.append(value)
        }
        return bytes
    }

    private static func ipv6(_ text: String) -> [UInt8]? {
        var storage = in6_addr()
        let parsed = text.withCString { inet_pton(AF_INET6, $0, &storage) }
        guard parsed == 1 else { return nil }
        return withUnsafeBytes(of: &storage) { Array($0) }
    }

    /// Whether `address` lies in `network`'s first `prefixLength` bits (same family only).
    private static func address(_ address: [UInt8], isIn network: [UInt8], prefixLength: Int) -> Bool {
        guard address.count == network.count else { return false }
        let wholeBytes = prefixLength / 8
        guard address.prefix(wholeBytes) == network.prefix(wholeBytes) else { return false }
        let remainingBits = prefixLength % 8
        guard remainingBits > 0 else { return true }
        let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - remainingBits))
        return address[wholeBytes] & mask == network[wholeBytes] & mask
    }
}
