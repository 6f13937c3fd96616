/// One number scoring record: the typed fields plus the record exactly as received.
public struct NumberScoringRecord: Sendable, Hashable {
    /// The typed fields.
    public let fields: Fields
    /// The whole record as received, as a tree.
    public let raw: JSONValue
    /// The whole record's bytes exactly as received (UTF-8, one JSON object), to copy into outputs.
    public let json: [UInt8]

    /// Creates a record from its parts; `json` is written from `raw` when not given.
    public init(fields: Fields, raw: JSONValue, json: [UInt8]? = nil) {
        self.fields = fields
        self.raw = raw
        self.json = json ?? raw.jsonBytes(sortedKeys: false)
    }

    /// The msisdn the record answers.
    public var msisdn: String { fields.msisdn }
    /// The raw `response` code (0 success).
    public var response: Int { fields.response }
    /// The documented meaning of `response`, nil when undocumented.
    public var responseCode: NumberScoringResponseCode? { NumberScoringResponseCode(rawValue: fields.response) }
    /// `scoring.credibility`: very_low, low, intermediate, high or very_high.
    public var credibility: String? { fields.scoring?.credibility }

    /// The record's typed fields; everything but `msisdn` and `response` is optional.
    public struct Fields: Sendable, Hashable, Codable {
        /// When the record was generated (ISO 8601).
        public var date: String?
        /// The msisdn, digits only.
        public var msisdn: String
        /// The response code, 0 to 8.
        public var response: Int
        /// Telecom metadata.
        public var phone: Phone?
        /// Credibility.
        public var scoring: Scoring?
        /// Breaches and disposability.
        public var security: Security?
        /// Presence per platform (amazon, apple, …, whatsapp, x), keyed by platform name.
        public var socialPresence: [String: SocialPresence]?

        enum CodingKeys: String, CodingKey {
            case date, msisdn, response, phone, scoring, security
            case socialPresence = "social_presence"
        }
    }

    /// Telecom metadata about the number.
    public struct Phone: Sendable, Hashable, Codable {
        /// International dialling code, such as `385`.
        public var countryCallingCode: String?
        /// Country name.
        public var countryName: String?
        /// MNC of the current network.
        public var currentNetworkMobileCode: String?
        /// First seen date.
        public var firstSeen: String?
        /// Current network name.
        public var currentNetworkName: String?
        /// Network where the number was first issued.
        public var initialNetworkName: String?
        /// MNC of the initial network.
        public var initialNetworkMobileCode: String?
        /// First porting date.
        public var firstPorted: String?
        /// Latest porting date.
        public var lastPorted: String?
        /// MCC.
        public var mobileCountryCode: String?
        /// How many times the number was ported.
        public var portedTimes: Int?
        /// landline, mobile, toll_free, shared_cost, voip, emergency or n/a.
        public var type: String?

        enum CodingKeys: String, CodingKey {
            case countryCallingCode = "country_calling_code"
            case countryName = "country_name"
            case currentNetworkMobileCode = "current_network_mobile_code"
            case firstSeen = "first_seen"
            case currentNetworkName = "current_network_name"
            case initialNetworkName = "initial_network_name"
            case initialNetworkMobileCode = "initial_network_mobile_code"
            case firstPorted = "first_ported"
            case lastPorted = "last_ported"
            case mobileCountryCode = "mobile_country_code"
            case portedTimes = "ported_times"
            case type
        }
    }

    /// Trust metrics.
    public struct Scoring: Sendable, Hashable, Codable {
        /// very_low, low, intermediate, high or very_high.
        public var credibility: String?
    }

    /// Security flags.
    public struct Security: Sendable, Hashable, Codable {
        /// Known breaches.
        public var dataBreachesCount: Int?
        /// Earliest breach date.
        public var dataBreachesFirstBreach: String?
        /// Latest breach date.
        public var dataBreachesLastBreach: String?
        /// yes, no or n/a.
        public var isDisposable: String?

        enum CodingKeys: String, CodingKey {
            case dataBreachesCount = "data_breaches_count"
            case dataBreachesFirstBreach = "data_breaches_first_breach"
            case dataBreachesLastBreach = "data_breaches_last_breach"
            case isDisposable = "is_disposable"
        }
    }

    /// Presence on one platform.
    public struct SocialPresence: Sendable, Hashable, Codable {
        /// yes, no or n/a.
        public var has: String?
        /// yes or no, where the platform has business profiles.
        public var isBusiness: String?

        enum CodingKeys: String, CodingKey {
            case has
            case isBusiness = "is_business"
        }
    }
}
