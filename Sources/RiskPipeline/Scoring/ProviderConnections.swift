import AsyncHTTPClient
import ScoringAPI

/// The provider clients made from the worker's settings, over one shared HTTP client.
public struct ProviderConnections: Sendable {
    /// How the phone risk API authenticates.
    public enum PhoneRiskCredentials: Sendable, Equatable {
        /// A bearer token used as is.
        case token(String)
        /// An API key and customer id for the provider's token endpoint.
        case tokenEndpoint(apiKey: String, customerID: String)
    }

    /// Where the two providers are and how to authenticate with them.
    public struct Configuration: Sendable {
        /// The phone risk API's base URL.
        public var phoneRiskURL: String
        /// The phone risk API's credentials.
        public var phoneRiskCredentials: PhoneRiskCredentials
        /// The number scoring API's base URL.
        public var numberScoringURL: String
        /// The number scoring API key.
        public var numberScoringAPIKey: String

        /// A configuration of the two providers.
        public init(phoneRiskURL: String, phoneRiskCredentials: PhoneRiskCredentials, numberScoringURL: String, numberScoringAPIKey: String) {
            self.phoneRiskURL = phoneRiskURL
            self.phoneRiskCredentials = phoneRiskCredentials
            self.numberScoringURL = numberScoringURL
            self.numberScoringAPIKey = numberScoringAPIKey
        }
    }

    /// The shared HTTP client; ``shutdown()`` closes it.
    public let httpClient: HTTPClient
    /// The phone risk client.
    public let phoneRisk: PhoneRiskClient
    /// The number scoring client (unbatched; the worker puts a batcher in front).
    public let numberScoring: NumberScoringClient

    /// Clients for the URLs and credentials in `settings`, with `poolSize` connections per provider host (the worker
    /// gives one per event in flight, since each may hold a phone-risk request, plus room for number-scoring batches).
    public init(settings: Configuration, poolSize: Int, requestTimeout: Duration = .seconds(10)) {
        let httpClient = HTTPClientSettings(poolSize: poolSize).makeHTTPClient()
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
