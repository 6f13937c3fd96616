import AsyncHTTPClient
import Logging
import NIOCore

/// Gets bearer tokens from `POST {base}/auth` (form-encoded, headers `Api-Key` and `Customer-Id`), caches them,
/// renews them before they expire and after a 401, and lets only one renewal run at a time.
public actor TokenProvider<C: Clock>: AccessTokenSource, CustomStringConvertible where C.Duration == Duration {
    private struct Issued: Sendable {
        let token: String
        let renewAt: C.Instant
    }

    private let transport: ProviderTransport
    private let authURL: String
    private let apiKey: String
    private let customerId: String
    private let renewalMargin: Duration
    private let clock: C
    private let logger: Logger
    private var current: Issued?
    private var renewal: Task<Result<Issued, ScoringError>, Never>?
    private var fetches = 0

    /// Creates a provider for `{baseURL}/auth`; a token is renewed `renewalMargin` before it expires
    /// (or at half its lifetime when that is shorter).
    public init(
        httpClient: HTTPClient,
        baseURL: String,
        apiKey: String,
        customerId: String,
        requestTimeout: Duration = .seconds(10),
        renewalMargin: Duration = .seconds(60),
        clock: C,
        logger: Logger = Logger(label: "scoring.token")
    ) {
        self.transport = ProviderTransport(httpClient: httpClient, requestTimeout: requestTimeout, maxBodyBytes: 64 * 1024)
        self.authURL = baseURL.trimmingTrailingSlashes() + "/auth"
        self.apiKey = apiKey
        self.customerId = customerId
        self.renewalMargin = renewalMargin
        self.clock = clock
        self.logger = logger
    }

    /// Redacted: never shows the API key, Customer-Id or token.
    public nonisolated var description: String { "TokenProvider(\(authURL), credentials: ***)" }

    /// How many times a token was requested from the endpoint (for metrics and tests).
    public var fetchCount: Int { fetches }

    /// The cached token, or a new one when there is none or it is due for renewal.
    public func token() async throws(ScoringError) -> String {
        if let current, clock.now < current.renewAt {
            return current.token
        }
        return try await renew()
    }

    /// A fresh token after a 401 on `rejected`; if another caller already renewed, that token is returned without a new fetch.
    public func renewToken(rejected: String) async throws(ScoringError) -> String? {
        if let current, current.token != rejected, clock.now < current.renewAt {
            return current.token
        }
        if current?.token == rejected {
            current = nil
        }
        return try await renew()
    }

    /// Drops the cached token so the next call fetches one.
    public func invalidate() {
        current = nil
    }

    private func renew() async throws(ScoringError) -> String {
        let task: Task<Result<Issued, ScoringError>, Never>
        if let running = renewal {
            task = running
        } else {
            fetches += 1
            let transport = self.transport
            let request = makeRequest()
            let clock = self.clock
            let margin = self.renewalMargin
            let secrets = [apiKey, customerId]
            task = Task {
                await Self.fetch(transport: transport, request: request, clock: clock, margin: margin, secrets: secrets)
            }
            renewal = task
        }
        let result = await task.value
        if renewal == task {
            renewal = nil
            if case .success(let issued) = result {
                current = issued
            }
        }
        switch result {
        case .success(let issued):
            return issued.token
        case .failure(let error):
            logger.warning("token renewal failed", metadata: ["error.code": "\(error.code)"])
            throw error
        }
    }

    private func makeRequest() -> HTTPClientRequest {
        var request = HTTPClientRequest(url: authURL)
        request.method = .POST
        request.headers.add(name: "Api-Key", value: apiKey)
        request.headers.add(name: "Customer-Id", value: customerId)
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(string: "grant_type=client_credentials"))
        return request
    }

    private static func fetch(
        transport: ProviderTransport, request: HTTPClientRequest, clock: C, margin: Duration, secrets: [String]
    ) async -> Result<Issued, ScoringError> {
        let started = clock.now
        do {
            let reply = try await transport.send(request)
            guard (200..<300).contains(reply.status) else {
                throw ScoringError.http(
                    status: reply.status, retryAfter: reply.retryAfter,
                    detail: "token endpoint: " + ProviderTransport.bodySummary(reply.body))
            }
            let answer = try JSONTreeReader.read(TokenResponse.self, from: ProviderTransport.parse(reply.body).value)
            guard !answer.accessToken.isEmpty else {
                throw ScoringError.decoding(path: "access_token", "empty token")
            }
            let lifetime = Duration.seconds(max(answer.expiresIn ?? 3600, 1))
            let renewAfter = max(lifetime - margin, lifetime / 2)
            return .success(Issued(token: answer.accessToken, renewAt: started.advanced(by: renewAfter)))
        } catch let error as ScoringError {
            return .failure(error.redacting(secrets))
        } catch {
            return .failure(ScoringError.transport("token request failed").redacting(secrets))
        }
    }
}

extension TokenProvider where C == ContinuousClock {
    /// Creates a provider on the continuous clock.
    public init(
        httpClient: HTTPClient,
        baseURL: String,
        apiKey: String,
        customerId: String,
        requestTimeout: Duration = .seconds(10),
        renewalMargin: Duration = .seconds(60),
        logger: Logger = Logger(label: "scoring.token")
    ) {
        self.init(
            httpClient: httpClient, baseURL: baseURL, apiKey: apiKey, customerId: customerId,
            requestTimeout: requestTimeout, renewalMargin: renewalMargin, clock: ContinuousClock(), logger: logger)
    }
}
