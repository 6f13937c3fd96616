import AsyncHTTPClient
import NIOCore
import NIOSSL

/// Settings for the `HTTPClient`s of the scoring clients: pool size, timeouts, extra CA certificates and a proxy.
public struct HTTPClientSettings: Sendable, Hashable {
    /// Connections kept per host (HTTP/1.1 soft limit).
    public var poolSize: Int
    /// How long a connection attempt may take.
    public var connectTimeout: Duration
    /// How long an idle pooled connection is kept.
    public var idleTimeout: Duration
    // Added, not replacing: behind a corporate CA, one provider may be reached directly with a public certificate
    // and another through TLS inspection with a private one; both must verify.
    /// CA certificates trusted in addition to the system's roots (not instead of them); nil: the system's roots only.
    public var caCertificates: CACertificateBundle?
    /// The HTTP proxy requests are tunnelled through (`CONNECT`); nil: direct connections.
    public var proxy: HTTPProxy?
    /// Hosts reached directly even when ``proxy`` is set.
    public var noProxy: NoProxyList

    /// Creates settings; defaults are 32 connections per host, 5 s to connect, 60 s idle, system roots, no proxy.
    public init(
        poolSize: Int = 32,
        connectTimeout: Duration = .seconds(5),
        idleTimeout: Duration = .seconds(60),
        caCertificates: CACertificateBundle? = nil,
        proxy: HTTPProxy? = nil,
        noProxy: NoProxyList = NoProxyList()
    ) {
        self.poolSize = poolSize
        self.connectTimeout = connectTimeout
        self.idleTimeout = idleTimeout
        self.caCertificates = caCertificates
        self.proxy = proxy
        self.noProxy = noProxy
    }

    /// The proxy that requests to `baseURL` go through: ``proxy`` unless ``noProxy`` matches the URL's host and port.
    public func proxy(for baseURL: String) -> HTTPProxy? {
        guard let proxy, !noProxy.matches(url: baseURL) else { return nil }
        return proxy
    }

    /// Makes an `HTTPClient` (no tracing, shared event loop group) for requests to `baseURL`, through
    /// ``proxy(for:)`` (nil: through ``proxy`` for every request); the caller must `shutdown()` it.
    public func makeHTTPClient(reaching baseURL: String? = nil) -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            timeout: .init(connect: connectTimeout.timeAmount),
            connectionPool: .init(
                idleTimeout: idleTimeout.timeAmount,
                concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, poolSize)))
        configuration.httpVersion = .automatic
        // No tracer is bootstrapped in this service: without this, every request builds span attributes for the
        // no-op tracer (2 % of the worker's CPU).
        configuration.tracing.tracer = nil
        if let caCertificates {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.additionalTrustRoots = [.certificates(caCertificates.certificates)]
            configuration.tlsConfiguration = tls
        }
        // AsyncHTTPClient applies one proxy to every request of a client, so NO_PROXY is decided here, once per
        // provider base URL: each provider gets its own client (the token endpoint shares the phone risk one).
        // Pools are per host, so a client per provider keeps the connections one shared client would have.
        let route = if let baseURL { proxy(for: baseURL) } else { proxy }
        configuration.proxy = route?.configuration
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }
}
