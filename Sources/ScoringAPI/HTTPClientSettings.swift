import AsyncHTTPClient
import NIOCore

/// Settings for the one `HTTPClient` shared by both scoring clients: pool size and connect timeout.
public struct HTTPClientSettings: Sendable, Hashable {
    /// Connections kept per host (HTTP/1.1 soft limit).
    public var poolSize: Int
    /// How long a connection attempt may take.
    public var connectTimeout: Duration
    /// How long an idle pooled connection is kept.
    public var idleTimeout: Duration

    /// Creates settings; defaults are 32 connections per host, 5 s to connect, 60 s idle.
    public init(poolSize: Int = 32, connectTimeout: Duration = .seconds(5), idleTimeout: Duration = .seconds(60)) {
        self.poolSize = poolSize
        self.connectTimeout = connectTimeout
        self.idleTimeout = idleTimeout
    }

    /// Makes an `HTTPClient` (TLS for https on by default, no tracing) on NIO's shared event loop group;
    /// the caller owns it and must call `shutdown()` when done.
    public func makeHTTPClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            timeout: .init(connect: connectTimeout.timeAmount),
            connectionPool: .init(
                idleTimeout: idleTimeout.timeAmount,
                concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, poolSize)))
        configuration.httpVersion = .automatic
        // No tracer is bootstrapped in this service: without this, every request builds span attributes for the
        // no-op tracer (2 % of the worker's CPU).
        configuration.tracing.tracer = nil
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }
}
