import AsyncHTTPClient
import Foundation
import ScoringAPI
import Testing

/// The real scoring clients over https against a TLS server with a test CA, directly and through a CONNECT proxy.
@Suite struct HTTPSTests {
    static let answers = [
        "/phone-service/phoneRiskScore": TinyServer.fixtureJSON,
        "/lookup/number-scoring": "[{\"msisdn\": \"436501234567\", \"response\": 0, \"scoring\": {\"credibility\": \"high\"}}]",
    ]

    /// AsyncHTTPClient retries a failing connection (refused certificate, 407) until the connect timeout passes; a first try slower than it (a loaded suite start) would be reported as a timeout instead.
    static let failingConnectTimeout = Duration.seconds(15)
    /// A connection meant to succeed gets long: a loaded start of the whole suite on two cores makes handshakes slow.
    static let succeedingConnectTimeout = Duration.seconds(30)

    @Test func phoneRiskSucceedsWithTheTestCA() async throws {
        let pki = try TestPKI()
        try await withTemporaryFile(pki.caPEM) { caFile in
            let settings = HTTPClientSettings(
                poolSize: 2, connectTimeout: Self.succeedingConnectTimeout, caCertificates: try CACertificateBundle(pemFile: caFile))
            try await TLSTestServer.withRunning(pki: pki, answers: Self.answers) { server in
                try await withClient(settings.makeHTTPClient(reaching: server.baseURL)) { http in
                    let client = PhoneRiskClient(httpClient: http, baseURL: server.baseURL, tokens: StaticAccessToken("tls-token"))
                    let result = try await client.score(try riskRequest("+436501234567"))
                    #expect(result.score == 301)
                    #expect(result.carrierName == "T-Mobile Austria GmbH")
                }
                #expect(server.requests == ["POST /phone-service/phoneRiskScore"])
            }
        }
    }

    @Test func withoutTheCATheServerCertificateIsRefused() async throws {
        let pki = try TestPKI()
        try await TLSTestServer.withRunning(pki: pki, answers: Self.answers) { server in
            let settings = HTTPClientSettings(poolSize: 2, connectTimeout: Self.failingConnectTimeout)
            try await withClient(settings.makeHTTPClient(reaching: server.baseURL)) { http in
                let client = PhoneRiskClient(httpClient: http, baseURL: server.baseURL, tokens: StaticAccessToken("tls-token"))
                let error = await scoringError { () async throws(ScoringError) in try await client.score(try riskRequest("+436501234567")) }
                #expect(error?.kind == .transport)
                #expect(error?.message.contains("TLS handshake with the provider failed") == true, "\(error?.message ?? "no error")")
                #expect(error?.message.contains("CERTIFICATE_VERIFY_FAILED") == true, "\(error?.message ?? "no error")")
            }
            #expect(server.requests.isEmpty)
        }
    }

    @Test func numberScoringGoesThroughTheProxyWithCONNECT() async throws {
        let pki = try TestPKI()
        try await withTemporaryFile(pki.caPEM) { caFile in
            try await TLSTestServer.withRunning(pki: pki, answers: Self.answers) { server in
                try await ConnectProxy.withRunning { proxy in
                    let settings = HTTPClientSettings(
                        poolSize: 2, connectTimeout: Self.succeedingConnectTimeout, caCertificates: try CACertificateBundle(pemFile: caFile),
                        proxy: try HTTPProxy(url: "http://risk%40worker:s3cr%3At@127.0.0.1:\(proxy.port)"),
                        noProxy: NoProxyList("localhost,.internal.example,10.0.0.0/8"))
                    #expect(settings.proxy(for: server.baseURL) != nil)
                    try await withClient(settings.makeHTTPClient(reaching: server.baseURL)) { http in
                        let client = NumberScoringClient(httpClient: http, baseURL: server.baseURL, apiKey: "tls-key")
                        let answer = try await client.lookup([try number("+436501234567")])
                        #expect(try answer.result(for: "436501234567").get().credibility == "high")
                    }
                    let credentials = Data("risk@worker:s3cr:t".utf8).base64EncodedString()
                    #expect(proxy.requests == [.init(target: "127.0.0.1:\(server.port)", authorization: "Basic \(credentials)")])
                    #expect(server.requests == ["POST /lookup/number-scoring"])
                }
            }
        }
    }

    @Test func aNoProxyHostBypassesTheProxy() async throws {
        let pki = try TestPKI()
        try await withTemporaryFile(pki.caPEM) { caFile in
            try await TLSTestServer.withRunning(pki: pki, answers: Self.answers) { server in
                try await ConnectProxy.withRunning { proxy in
                    let settings = HTTPClientSettings(
                        poolSize: 2, connectTimeout: Self.succeedingConnectTimeout, caCertificates: try CACertificateBundle(pemFile: caFile),
                        proxy: HTTPProxy(host: "127.0.0.1", port: proxy.port), noProxy: NoProxyList("example.com, 127.0.0.1"))
                    #expect(settings.proxy(for: server.baseURL) == nil)
                    try await withClient(settings.makeHTTPClient(reaching: server.baseURL)) { http in
                        let client = NumberScoringClient(httpClient: http, baseURL: server.baseURL, apiKey: "tls-key")
                        _ = try await client.lookup([try number("+436501234567")])
                    }
                    #expect(proxy.connectionCount == 0)
                    #expect(proxy.requests.isEmpty)
                    #expect(server.requests == ["POST /lookup/number-scoring"])
                }
            }
        }
    }

    @Test func aProxyAskingForCredentialsIsATransportError() async throws {
        let pki = try TestPKI()
        try await TLSTestServer.withRunning(pki: pki, answers: Self.answers) { server in
            try await ConnectProxy.withRunning(requiring: "Basic c29tZW9uZTplbHNl") { proxy in
                let settings = HTTPClientSettings(
                    poolSize: 2, connectTimeout: Self.failingConnectTimeout, proxy: try HTTPProxy(url: "http://127.0.0.1:\(proxy.port)"))
                try await withClient(settings.makeHTTPClient(reaching: server.baseURL)) { http in
                    let client = NumberScoringClient(httpClient: http, baseURL: server.baseURL, apiKey: "tls-key")
                    let error = await scoringError { () async throws(ScoringError) in
                        try await client.lookup([try number("+436501234567")])
                    }
                    #expect(error?.kind == .transport)
                    #expect(error?.message.contains("the proxy asked for credentials") == true, "\(error?.message ?? "no error")")
                }
                // AsyncHTTPClient retries a failed connection until the connect timeout: every try asked the same.
                #expect(!proxy.requests.isEmpty)
                #expect(Set(proxy.requests.map(\.target)) == ["127.0.0.1:\(server.port)"])
                #expect(server.requests.isEmpty)
            }
        }
    }
}
