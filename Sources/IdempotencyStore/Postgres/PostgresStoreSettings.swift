import PostgresNIO

/// Where and how to reach the PostgreSQL idempotency store; its `description` never shows the password.
public struct PostgresStoreSettings: Sendable, Equatable, CustomStringConvertible {
    /// How the connection uses TLS (the URL's `sslmode` parameter).
    public enum TLSMode: String, Sendable, Equatable, CaseIterable {
        /// Plain TCP only.
        case disable
        /// TLS when the server offers it, plain TCP otherwise (the default).
        case prefer
        /// TLS with a verified server certificate, or no connection.
        case require
    }

    /// The server's host name or address.
    public var host: String
    /// The server's port.
    public var port: Int
    /// The user name.
    public var username: String
    /// The password, if any.
    public var password: String?
    /// The database name.
    public var database: String
    /// The TLS mode.
    public var tls: TLSMode
    /// How long ``PostgresIdempotencyStore/connect(settings:logger:now:purgeChunk:)`` waits for the first connection.
    public var connectTimeout: Duration
    /// The most connections one worker instance opens.
    public var maximumConnections: Int

    /// Creates settings.
    public init(
        host: String, port: Int = 5432, username: String, password: String?, database: String,
        tls: TLSMode = .prefer, connectTimeout: Duration = .seconds(30), maximumConnections: Int = 20
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
        self.connectTimeout = connectTimeout
        self.maximumConnections = maximumConnections
    }

    /// The settings as a URL with the password replaced by `***`.
    public var redactedURL: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        let credentials = password == nil ? username : "\(username):***"
        let query = tls == .prefer ? "" : "?sslmode=\(tls.rawValue)"
        return "postgres://\(credentials)@\(hostPart):\(port)/\(database)\(query)"
    }

    /// The redacted URL.
    public var description: String { redactedURL }

    /// The `PostgresClient` configuration for these settings.
    var clientConfiguration: PostgresClient.Configuration {
        let tlsConfiguration: PostgresClient.Configuration.TLS
        switch tls {
        case .disable: tlsConfiguration = .disable
        case .prefer: tlsConfiguration = .prefer(.makeClientConfiguration())
        case .require: tlsConfiguration = .require(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tlsConfiguration
        )
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = connectTimeout
        return configuration
    }
}
