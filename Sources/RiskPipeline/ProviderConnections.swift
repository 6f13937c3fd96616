import AsyncHTTPClient
import ScoringAPI

/// The provider clients made from the worker's settings, over one shared HTTP client.
public struct ProviderConnections: Sendable {
    /// The shared HTTP client; ``shutdown()`` closes it.
    public let httpClient: HTTPClient
    /// The phone risk client.
    public let phoneRisk: PhoneRiskClient
    /// The number scoring client (unbatched; the worker puts a batcher in front).
    public let numberScoring: NumberScoringClient

    /// Clients for the URLs and credentials in `settings`, with `poolSize` connections per provider host (by
    /// default one per event in flight, since each may hold a phone-risk request, plus room for number-scoring batches).
    public init(settings: WorkerSettings, poolSize: Int? = nil, requestTimeout: Duration = .seconds(10)) {
        let httpClient = HTTPClientSettings(poolSize: poolSize ?? settings.maxInFlight + 16).makeHTTPClient()
        let tokens: any AccessTokenSource
        switch settings.phoneRiskCredentials {
        case .token(let token):
            tokens = StaticAccessToken(token)
        case .tokenEndpoint(let apiKey, let customerID):
            tokens = TokenProvider(httpClient: httpClient, baseURL: settings.phoneRiskURL, apiKey: apiKey, customerId: customerID)
        }
        self.httpClient = httpClient
        self.phoneRisk = PhoneRiskClient(
            httpClient: httpClient, baseURL: settings.phoneRiskURL, tokens: tokens, requestTimeout: requestTimeout)
        self.numberScoring = NumberScoringClient(
            httpClient: httpClient, baseURL: settings.numberScoringURL, apiKey: settings.numberScoringAPIKey,
            requestTimeout: requestTimeout)
    }

    /// Closes the HTTP client.
    public func shutdown() async {
        try? await httpClient.shutdown()
    }
}
