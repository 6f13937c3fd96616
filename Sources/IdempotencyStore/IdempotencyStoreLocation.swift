import Foundation
import Logging

/// Which store to open and where: `sqlite:///path` or `postgres://user:pw@host:port/db`.
///
/// Accepted forms:
/// - empty or unset: the SQLite file ``defaultSQLitePath`` in the working directory;
/// - `sqlite:///absolute/path.sqlite` (empty host, absolute path);
/// - `sqlite:relative/path.sqlite` (no `//`: a path relative to the working directory);
/// - `postgres://user:password@host:port/database` or `postgresql://…`; port 5432 and database = user by default,
///   user and password percent-decoded, an IPv6 host in brackets, optional `?sslmode=disable|prefer|require`.
/// Errors name the setting and never contain the password.
public enum IdempotencyStoreLocation: Sendable, Equatable, CustomStringConvertible {
    /// An SQLite file (a relative path is resolved against the working directory when opened).
    case sqlite(path: String)
    /// A PostgreSQL database.
    case postgres(PostgresStoreSettings)

    /// The name of the setting, used in error messages.
    /// The SQLite file used when the setting is empty.
    public static let defaultSQLitePath = "risk-worker-idempotency.sqlite"
    /// The location used when the setting is empty.
    public static let `default` = IdempotencyStoreLocation.sqlite(path: defaultSQLitePath)

    /// Why a setting value cannot be used; the message starts with the setting's name.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        /// One line naming the setting and the problem, without the password.
        public let message: String
        /// The message.
        public var description: String { message }
    }

    /// The location, for logs (the password replaced by `***`).
    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path.hasPrefix("/") ? "//" : "")\(path)"
        case .postgres(let settings): settings.redactedURL
        }
    }

    /// Parses a setting value (nil or blank gives ``default``).
    public static func parse(_ value: String?) throws(ParseError) -> IdempotencyStoreLocation {
        let text = (value ?? "").trimmingCharacters(in: .whitespaces)
        if text.isEmpty { return .default }
        let lowered = text.lowercased()
        if lowered.hasPrefix("sqlite:") {
            return try parseSQLite(String(text.dropFirst("sqlite:".count)))
        }
        for scheme in ["postgres://", "postgresql://"] where lowered.hasPrefix(scheme) {
            return .postgres(try parsePostgres(String(text.dropFirst(scheme.count)), whole: text))
        }
        let scheme = text.firstIndex(of: ":").map { String(text[..<$0]) } ?? ""
        let shown = scheme.isEmpty || scheme.count > 20 ? "no scheme" : "unsupported scheme '\(scheme)'"
        throw fail(
            "\(shown); use sqlite:///absolute/path, sqlite:relative/path or postgres://user:password@host:port/database"
        )
    }

    /// Opens the store this location names.
    public func open(
        logger: Logger = Logger(label: "risk-worker.idempotency"),
        now: @escaping @Sendable () -> Date = { Date() }
    ) async throws -> any IdempotencyStore {
        switch self {
        case .sqlite(let path):
            return try await SQLiteIdempotencyStore.open(path: path, logger: logger, now: now)
        case .postgres(let settings):
            return try await PostgresIdempotencyStore.connect(settings: settings, logger: logger, now: now)
        }
    }

    // MARK: - Parsing

    private static func parseSQLite(_ rest: String) throws(ParseError) -> IdempotencyStoreLocation {
        let rawPath: String
        if rest.hasPrefix("//") {
            let afterSlashes = rest.dropFirst(2)
            guard afterSlashes.hasPrefix("/") else {
                throw fail("an sqlite URL has no host: use sqlite:///absolute/path or sqlite:relative/path")
            }
            rawPath = String(afterSlashes)
        } else {
            rawPath = rest
        }
        guard !rawPath.contains("?"), !rawPath.contains("#") else {
            throw fail("an sqlite URL takes no query or fragment")
        }
        guard let path = rawPath.removingPercentEncoding, !path.isEmpty, !path.hasSuffix("/") else {
            throw fail("the sqlite URL needs a file path, e.g. sqlite:///var/lib/risk-worker/idempotency.sqlite")
        }
        return .sqlite(path: path)
    }

    private static func parsePostgres(_ rest: String, whole: String) throws(ParseError) -> PostgresStoreSettings {
        let redacted = redact(whole)
        // user[:password] @ host[:port] [/database] [?query]; the last `@` ends the credentials, so that a password
        // with an unencoded `@`, `/` or `:` still parses (and is never shown).
        guard let at = rest.lastIndex(of: "@") else {
            throw fail("\(redacted) has no user; use postgres://user:password@host:port/database")
        }
        let userInfo = rest[..<at]
        var remainder = rest[rest.index(after: at)...]
        var query: Substring = ""
        if let mark = remainder.firstIndex(of: "?") {
            query = remainder[remainder.index(after: mark)...]
            remainder = remainder[..<mark]
        }
        var hostPort = remainder
        var databasePart: Substring = ""
        if let slash = remainder.firstIndex(of: "/") {
            hostPort = remainder[..<slash]
            databasePart = remainder[remainder.index(after: slash)...]
        }

        let username: String
        var password: String?
        if let colon = userInfo.firstIndex(of: ":") {
            guard let user = userInfo[..<colon].removingPercentEncoding,
                let secret = userInfo[userInfo.index(after: colon)...].removingPercentEncoding
            else { throw fail("\(redacted) has badly percent-encoded credentials") }
            username = user
            password = secret
        } else {
            guard let user = userInfo.removingPercentEncoding else {
                throw fail("\(redacted) has a badly percent-encoded user")
            }
            username = user
        }
        guard !username.isEmpty else { throw fail("\(redacted) has an empty user") }

        var host: Substring
        var portText: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw fail("\(redacted) has an unclosed IPv6 host") }
            host = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("\(redacted) has text after the IPv6 host") }
                portText = after.dropFirst()
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = hostPort[..<colon]
            portText = hostPort[hostPort.index(after: colon)...]
        } else {
            host = hostPort
        }
        guard !host.isEmpty else { throw fail("\(redacted) has no host") }
        var port = 5432
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw fail("\(redacted) has an invalid port '\(portText)'")
            }
            port = value
        }

        guard let decodedDatabase = databasePart.removingPercentEncoding, !decodedDatabase.contains("/") else {
            throw fail("\(redacted) has an invalid database name")
        }
        let database = decodedDatabase.isEmpty ? username : decodedDatabase

        var tls = PostgresStoreSettings.TLSMode.prefer
        for parameter in query.split(separator: "&") where !parameter.isEmpty {
            let pair = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2, pair[0] == "sslmode" else {
                throw fail("\(redacted) has an unsupported parameter '\(pair[0])' (only sslmode is supported)")
            }
            guard let mode = PostgresStoreSettings.TLSMode(rawValue: String(pair[1])) else {
                let modes = PostgresStoreSettings.TLSMode.allCases.map(\.rawValue).joined(separator: ", ")
                throw fail("\(redacted) has an unsupported sslmode '\(pair[1])' (use \(modes))")
            }
            tls = mode
        }
        return PostgresStoreSettings(
            host: String(host), port: port, username: username, password: password, database: database, tls: tls
        )
    }

    private static func fail(_ problem: String) -> ParseError {
        ParseError(message: problem)
    }

    /// The value with its password replaced by `***`: everything between the first `:` after `://` and the last `@`
    /// (or, without any `@`, everything after that `:`).
    static func redact(_ value: String) -> String {
        guard let schemeEnd = value.range(of: "://") else { return value }
        let afterScheme = value[schemeEnd.upperBound...]
        if let at = afterScheme.lastIndex(of: "@") {
            guard let colon = afterScheme[..<at].firstIndex(of: ":") else { return value }
            return String(value[...colon]) + "***" + String(value[at...])
        }
        guard let colon = afterScheme.firstIndex(of: ":") else { return value }
        return String(value[...colon]) + "***"
    }
}
