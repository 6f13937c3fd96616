import AsyncHTTPClient
import ScoringAPI

/// The provider clients made from the worker's settings, each over its own HTTP client (an egress proxy, if any, is
/// chosen per provider host: NO_PROXY may name one and not the other).
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
        /// CA certificates trusted besides the system's roots.
        public var caCertificates: CACertificateBundle?
        /// The egress proxy, if any.
        public var proxy: HTTPProxy?
        /// Hosts reached without the proxy.
        public var noProxy: NoProxyList

        /// A configuration of the two providers.
        public init(
            phoneRiskURL: String, phoneRiskCredentials: PhoneRiskCredentials, numberScoringURL: String, numberScoringAPIKey: String,
            caCertificates: CACertificateBundle? = nil, proxy: HTTPProxy? = nil, noProxy: NoProxyList = NoProxyList()
        ) {
            self.phoneRiskURL = phoneRiskURL
            self.phoneRiskCredentials = phoneRiskCredentials
            self.numberScoringURL = numberScoringURL
            self.numberScoringAPIKey = numberScoringAPIKey
            self.caCertificates = caCertificates
            self.proxy = proxy
            self.noProxy = noProxy
        }
    }

    /// The phone risk client (its token endpoint shares its HTTP client).
    public let phoneRisk: PhoneRiskClient
    /// The number scoring client (unbatched; the worker puts a batcher in front).
    public let numberScoring: NumberScoringClient
    private let httpClients: [HTTPClient]

    /// Clients for the URLs and credentials in `settings`, with `poolSize` connections per provider host (the worker
    /// gives one per event in flight, since each may hold a phone-risk request, plus room for number-scoring batches).
    public init(settings: Configuration, poolSize: Int, requestTimeout: Duration = .seconds(10)) {
        let http = HTTPClientSettings(
            poolSize: poolSize, caCertificates: settings.caCertificates, proxy: settings.proxy, noProxy: settings.noProxy)
        let phoneRiskHTTP = http.makeHTTPClient(reaching: settings.phoneRiskURL)
        let numberScoringHTTP = http.makeHTTPClient(reaching: settings.numberScoringURL)
        let tokens: any AccessTokenSource
        switch settings.phoneRiskCredentials {
        case .token(let token):
            tokens = StaticAccessToken(token)
        case .tokenEndpoint(let apiKey, let customerID):
            tokens = TokenProvider(httpClient: phoneRiskHTTP, baseURL: settings.phoneRiskURL, apiKey: apiKey, customerId: customerID)
        }
        self.httpClients = [phoneRiskHTTP, numberScoringHTTP]
        self.phoneRisk = PhoneRiskClient(
            httpClient: phoneRiskHTTP, baseURL: settings.phoneRiskURL, tokens: tokens, requestTimeout: requestTimeout)
        self.numberScoring = NumberScoringClient(
            httpClient: numberScoringHTTP, baseURL: settings.numberScoringURL, apiKey: settings.numberScoringAPIKey,
            requestTimeout: requestTimeout)
    }

    /// Closes the HTTP clients.
    public func shutdown() async {
        for client in httpClients { try? await client.shutdown() }
    }
}
