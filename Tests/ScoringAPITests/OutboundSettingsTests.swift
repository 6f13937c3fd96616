import Foundation
import ScoringAPI
import Testing

@Suite struct HTTPProxyParsingTests {
    @Test func hostPortAndCredentialsAreRead() throws {
        let proxy = try HTTPProxy(url: "http://user:pw@proxy.corp.example:3128")
        #expect(proxy.host == "proxy.corp.example")
        #expect(proxy.port == 3128)
        #expect(proxy.credentials == HTTPProxy.Credentials(username: "user", password: "pw"))
        #expect(proxy.description == "http://***@proxy.corp.example:3128")
        #expect("\(proxy.credentials.map(String.init(describing:)) ?? "")" == "***")
    }

    @Test func curlDefaults() throws {
        #expect(try HTTPProxy(url: "proxy.corp.example") == HTTPProxy(host: "proxy.corp.example", port: 1080))
        #expect(try HTTPProxy(url: "  HTTP://Proxy.Corp.Example:8080/ ") == HTTPProxy(host: "proxy.corp.example", port: 8080))
        #expect(try HTTPProxy(url: "10.1.2.3:3128") == HTTPProxy(host: "10.1.2.3", port: 3128))
        #expect(try HTTPProxy(url: "http://[fd00::1]:3128") == HTTPProxy(host: "fd00::1", port: 3128))
        #expect(try HTTPProxy(url: "http://proxy:") == HTTPProxy(host: "proxy", port: 1080))
    }

    @Test func credentialsArePercentDecoded() throws {
        let proxy = try HTTPProxy(url: "http://risk%40worker:p%3Ass%20w@proxy:3128")
        #expect(proxy.credentials == HTTPProxy.Credentials(username: "risk@worker", password: "p:ss w"))
        #expect(try HTTPProxy(url: "http://user@proxy:3128").credentials == HTTPProxy.Credentials(username: "user", password: ""))
        #expect(try HTTPProxy(url: "http://user:p@ss@proxy:3128").credentials?.password == "p@ss")
    }

    @Test(arguments: [
        ("", "proxy URL is empty"),
        ("https://proxy:3128", "the scheme \"https\" is not supported"),
        ("socks5://proxy:1080", "the scheme \"socks5\" is not supported"),
        ("http://:3128", "no host"),
        ("http://proxy:31x8", "the port \"31x8\" is not 1-65535"),
        ("http://proxy:0", "the port \"0\" is not 1-65535"),
        ("http://proxy:65536", "the port \"65536\" is not 1-65535"),
        ("http://fd00::1:3128", "an IPv6 address must be written in brackets"),
        ("http://[fd00::1:3128", "lacks its closing ]"),
        ("http://proxy:3128/path", "unexpected path, query or fragment"),
        ("http://us%zzer:pw@proxy:3128", "invalid percent-encoding"),
        ("http://:pw@proxy:3128", "no user name"),
    ])
    func invalidURLsAreClearErrors(url: String, reason: String) {
        let error = #expect(throws: InvalidHTTPSetting.self) { try HTTPProxy(url: url) }
        #expect(error?.message.hasPrefix("proxy URL") == true)
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
    }

    @Test func errorsNeverShowTheCredentials() {
        let error = #expect(throws: InvalidHTTPSetting.self) { try HTTPProxy(url: "https://user:hunter2@proxy:3128") }
        #expect(error?.message.contains("hunter2") == false)
        #expect(error?.message.contains("user") == false)
        #expect(error?.description.contains("\"https://***@proxy:3128\"") == true)
    }
}

@Suite struct NoProxyListTests {
    @Test(arguments: [
        // curl's rules: a name matches itself and the names below it, with or without a leading dot.
        ("example.com", "example.com", true),
        ("example.com", "api.example.com", true),
        ("example.com", "API.Example.COM", true),
        ("example.com", "notexample.com", false),
        ("example.com", "example.com.evil.test", false),
        (".example.com", "example.com", true),
        (".example.com", "a.b.example.com", true),
        ("*.example.com", "api.example.com", true),
        ("example.com.", "api.example.com", true),
        ("example.com", "api.example.com.", true),
        ("*", "anything.test", true),
        ("localhost, 127.0.0.1", "localhost", true),
        ("foo.test bar.test", "bar.test", true),
        ("", "example.com", false),
        // Addresses, exact or by network; names never match addresses.
        ("127.0.0.1", "127.0.0.1", true),
        ("127.0.0.1", "127.0.0.2", false),
        ("10.0.0.0/8", "10.20.30.40", true),
        ("10.0.0.0/8", "11.0.0.1", false),
        ("192.168.0.0/17", "192.168.127.1", true),
        ("192.168.0.0/17", "192.168.128.1", false),
        ("0.0.0.0/0", "203.0.113.9", true),
        ("::1", "::1", true),
        ("::1", "[::1]", true),
        ("fd00::/8", "fd12:3456::1", true),
        ("fd00::/8", "fe80::1", false),
        ("[fd00::]/8", "fd12::1", true),
        ("0.0.1", "127.0.0.1", false),
        ("1", "127.0.0.1", false),
        ("localhost", "127.0.0.1", false),
    ])
    func hostMatching(list: String, host: String, bypasses: Bool) {
        #expect(NoProxyList(list).matches(host: host, port: 443) == bypasses, "\(list) vs \(host)")
    }

    @Test func aPortRestrictsTheEntry() {
        let list = NoProxyList("api.example.com:8443,10.0.0.0/8:443,[::1]:9000")
        #expect(list.matches(host: "api.example.com", port: 8443))
        #expect(!list.matches(host: "api.example.com", port: 443))
        #expect(list.matches(host: "10.1.1.1", port: 443))
        #expect(!list.matches(host: "10.1.1.1", port: 80))
        #expect(list.matches(host: "::1", port: 9000))
        #expect(!list.matches(host: "::1", port: 9001))
    }

    @Test func urlsUseTheirHostAndTheSchemesPort() {
        let list = NoProxyList("phone.internal.example:443,127.0.0.1")
        #expect(list.matches(url: "https://phone.internal.example/v1"))
        #expect(list.matches(url: "https://phone.internal.example:443"))
        #expect(!list.matches(url: "https://phone.internal.example:8443"))
        #expect(!list.matches(url: "http://phone.internal.example"))
        #expect(list.matches(url: "https://user@127.0.0.1:9443/path?q"))
        #expect(!list.matches(url: "not a url"))
    }

    @Test func unreadableEntriesAreIgnoredAndListed() {
        let list = NoProxyList("good.example, bad.example:http ,10.0.0.0/33,::1/129,1.2.3.4/x,.,[::1")
        #expect(list.entries == [.domain("good.example", port: nil)])
        #expect(list.ignored == ["bad.example:http", "10.0.0.0/33", "::1/129", "1.2.3.4/x", ".", "[::1"])
        #expect(list.matches(host: "good.example", port: 443))
        #expect(!list.matches(host: "bad.example", port: 443))
    }
}

@Suite struct ProxyDecisionTests {
    @Test func noProxyDecidesPerBaseURL() throws {
        let proxy = try HTTPProxy(url: "http://proxy.corp.example:3128")
        let settings = HTTPClientSettings(proxy: proxy, noProxy: NoProxyList(".internal.example"))
        #expect(settings.proxy(for: "https://phone-risk.provider.example") == proxy)
        #expect(settings.proxy(for: "https://scoring.internal.example/api") == nil)
        #expect(HTTPClientSettings(noProxy: NoProxyList("*")).proxy(for: "https://x.example") == nil)
        #expect(HTTPClientSettings().proxy(for: "https://x.example") == nil)
    }
}

@Suite struct CACertificateBundleTests {
    @Test func everyCertificateOfTheFileIsRead() async throws {
        let first = try TestPKI().caPEM
        let second = try TestPKI().caPEM
        try await withTemporaryFile(first + "\n# a comment between certificates\n" + second) { path in
            let bundle = try CACertificateBundle(pemFile: path)
            #expect(bundle.count == 2)
            #expect(bundle.path == path)
            #expect(bundle.description == "\(path) (2 certificates)")
        }
    }

    @Test func aMissingFileIsAnErrorNamingThePath() {
        let path = "/nonexistent/\(UUID().uuidString)/ca.pem"
        let error = #expect(throws: InvalidHTTPSetting.self) { try CACertificateBundle(pemFile: path) }
        #expect(error?.message.hasPrefix("CA file \(path) cannot be read") == true, "\(error?.message ?? "")")
    }

    @Test(arguments: [
        ("", "contains no PEM certificate"),
        ("not a certificate at all\n", "contains no PEM certificate"),
        ("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n", "is not a valid PEM certificate bundle"),
    ])
    func anInvalidFileIsAnErrorNamingThePath(contents: String, reason: String) async throws {
        try await withTemporaryFile(contents) { path in
            let error = #expect(throws: InvalidHTTPSetting.self) { try CACertificateBundle(pemFile: path) }
            #expect(error?.message.hasPrefix("CA file \(path) ") == true)
            #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
        }
    }

    @Test func aCertificateFollowedByGarbageIsInvalid() async throws {
        let pem = try TestPKI().caPEM + "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"
        try await withTemporaryFile(pem) { path in
            let error = #expect(throws: InvalidHTTPSetting.self) { try CACertificateBundle(pemFile: path) }
            #expect(error?.message.contains("is not a valid PEM certificate bundle") == true, "\(error?.message ?? "")")
        }
    }
}
