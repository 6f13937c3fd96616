import AsyncHTTPClient
import Logging
import ScoringAPI
import ScoringSimulator

/// A running in-process sandbox on 127.0.0.1 port 0, with a shared HTTP client pointed at it.
struct SandboxFixture: Sendable {
    static let token = "fixture-static-token-7f3a"
    static let apiKey = "fixture-api-key-91cd"
    static let customerId = "fixture-customer-55ab"

    /// The sandbox's HTTP faults (suffix 99993 + digit) and what each must become: code, disposition, Retry-After.
    static let httpFaultExpectations: [(digit: Int, code: String, disposition: ScoringError.Disposition, retryAfter: Duration?)] = [
        (1, "http-429", .retriable, .seconds(1)),
        (2, "http-500", .retriable, nil),
        (3, "http-503", .retriable, .seconds(2)),
        (4, "http-502", .retriable, nil),
        (5, "decoding", .permanent, nil),
        (6, "http-403", .accountLevel, nil),
    ]

    let sandbox: ScoringSandbox
    let token: String
    let apiKey: String
    let baseURL: String
    let httpClient: HTTPClient

    /// Runs `body` against a fresh sandbox and shuts everything down afterwards.
    static func run<T: Sendable>(
        token: String = SandboxFixture.token,
        apiKey: String = SandboxFixture.apiKey,
        latency: Duration = .zero,
        errorRate: Double = 0,
        _ body: (SandboxFixture) async throws -> T
    ) async throws -> T {
        let sandbox = ScoringSandbox(
            configuration: .init(
                host: "127.0.0.1", port: 0, token: token, apiKey: apiKey, latency: latency, errorRate: errorRate))
        var logger = Logger(label: "scoring-sim-test")
        logger.logLevel = .critical
        let httpClient = HTTPClientSettings(poolSize: 8, connectTimeout: .seconds(30)).makeHTTPClient()
        do {
            let result = try await sandbox.withRunning(logger: logger) { baseURL in
                try await body(SandboxFixture(sandbox: sandbox, token: token, apiKey: apiKey, baseURL: baseURL, httpClient: httpClient))
            }
            try await httpClient.shutdown()
            return result
        } catch {
            try? await httpClient.shutdown()
            throw error
        }
    }

    /// A phone risk client with the sandbox's static token.
    func phoneRiskClient(token: String? = nil, timeout: Duration = .seconds(5)) -> PhoneRiskClient {
        PhoneRiskClient(
            httpClient: httpClient, baseURL: baseURL, tokens: StaticAccessToken(token ?? self.token), requestTimeout: timeout)
    }

    /// A token provider against the sandbox's `/auth`.
    func tokenProvider<C: Clock>(
        apiKey: String? = nil, customerId: String = SandboxFixture.customerId, clock: C
    ) -> TokenProvider<C> where C.Duration == Duration {
        TokenProvider(
            httpClient: httpClient, baseURL: baseURL, apiKey: apiKey ?? self.apiKey, customerId: customerId, clock: clock)
    }

    /// A number scoring client with the sandbox's API key.
    func numberScoringClient(apiKey: String? = nil, timeout: Duration = .seconds(5)) -> NumberScoringClient {
        NumberScoringClient(httpClient: httpClient, baseURL: baseURL, apiKey: apiKey ?? self.apiKey, requestTimeout: timeout)
    }
}

/// Parses a number that the test knows is valid.
func number(_ text: String) throws(ScoringError) -> PhoneNumber {
    try PhoneNumber(text)
}

/// A phone risk request for `text` with the `create` event.
func riskRequest(_ text: String, externalId: String? = nil) throws(ScoringError) -> PhoneRiskRequest {
    PhoneRiskRequest(phoneNumber: try PhoneNumber(text), accountLifecycleEvent: .create, externalId: externalId)
}

/// Runs `body` and returns the `ScoringError` it threw, or nil when it did not throw.
func scoringError<T>(_ body: () async throws(ScoringError) -> T) async -> ScoringError? {
    do {
        _ = try await body()
        return nil
    } catch {
        return error
    }
}

/// Runs `body` with a fresh `HTTPClient` and always shuts the client down.
func withHTTPClient<T: Sendable>(_ body: (HTTPClient) async throws -> T) async throws -> T {
    let httpClient = HTTPClientSettings(poolSize: 8, connectTimeout: .seconds(30)).makeHTTPClient()
    do {
        let result = try await body(httpClient)
        try await httpClient.shutdown()
        return result
    } catch {
        try? await httpClient.shutdown()
        throw error
    }
}
