/// The typed view of the phone risk response's `data` object; every field is optional and unknown fields are ignored.
public struct PhoneRiskData: Sendable, Hashable, Codable {
    /// The provider's transaction reference.
    public var referenceId: String?
    /// The caller's `externalId`, echoed.
    public var externalId: String?
    /// The transaction status (300 complete, 301 partial, 500 not attempted, 501 not authorized, 599 unavailable).
    public var status: Status?
    /// The number as sent and as cleansed.
    public var numbering: Numbering?
    /// TeleSign risk insight codes.
    public var riskInsights: RiskInsights?
    /// The phone type; `code` is a string such as `"2"`.
    public var phoneType: PhoneType?
    /// Where the number is registered.
    public var location: Location?
    /// The carrier.
    public var carrier: Carrier?
    /// Whether the number is blocklisted.
    public var blocklisting: Blocklisting?
    /// The risk verdict.
    public var risk: Risk?
    /// TeleSign errors, when the transaction failed.
    public var errors: [ProviderError]?

    /// The transaction status.
    public struct Status: Sendable, Hashable, Codable {
        /// When the status was last updated (ISO 8601).
        public var updatedOn: String?
        /// The status code.
        public var code: Int?
        /// The status text.
        public var description: String?
    }

    /// The original and cleansed forms of the number.
    public struct Numbering: Sendable, Hashable, Codable {
        /// The number as sent.
        public var original: Original?
        /// The number as cleansed for calls and SMS.
        public var cleansing: Cleansing?

        /// The number as sent.
        public struct Original: Sendable, Hashable, Codable {
            /// The full number with `+`.
            public var completePhoneNumber: String?
            /// The country calling code.
            public var countryCode: String?
            /// The national part.
            public var phoneNumber: String?
        }

        /// The cleansed forms for calls and SMS.
        public struct Cleansing: Sendable, Hashable, Codable {
            /// The form used for calls.
            public var call: Cleansed?
            /// The form used for SMS.
            public var sms: Cleansed?
        }

        /// One cleansed form.
        public struct Cleansed: Sendable, Hashable, Codable {
            /// The country calling code.
            public var countryCode: String?
            /// The national part.
            public var phoneNumber: String?
            /// TeleSign's cleansing code.
            public var cleansedCode: Int?
            /// The shortest valid national length.
            public var minLength: Int?
            /// The longest valid national length.
            public var maxLength: Int?
        }
    }

    /// TeleSign risk insight codes; keys `a2P` and `p2P` are spelled as the provider does.
    public struct RiskInsights: Sendable, Hashable, Codable {
        /// The insight status.
        public var status: Int?
        /// Category codes.
        public var category: [Int]?
        /// Application-to-person codes (JSON key `a2P`).
        public var a2P: [Int]?
        /// Person-to-person codes (JSON key `p2P`).
        public var p2P: [Int]?
        /// Number type codes.
        public var numberType: [Int]?
        /// IP codes.
        public var ip: [Int]?
        /// Email codes.
        public var email: [Int]?
    }

    /// The phone type, with its code kept as a string.
    public struct PhoneType: Sendable, Hashable, Codable {
        /// The type code, a string such as `"2"`.
        public var code: String?
        /// The type name, such as `MOBILE`.
        public var description: String?
    }

    /// Where the number is registered.
    public struct Location: Sendable, Hashable, Codable {
        /// City.
        public var city: String?
        /// State.
        public var state: String?
        /// Postal code.
        public var zip: String?
        /// Metro code.
        public var metroCode: String?
        /// County.
        public var county: String?
        /// Country.
        public var country: Country?
        /// Coordinates.
        public var coordinates: Coordinates?
        /// Time zone.
        public var timeZone: TimeZone?

        /// A country.
        public struct Country: Sendable, Hashable, Codable {
            /// English name.
            public var name: String?
            /// ISO 3166-1 alpha-2 code.
            public var iso2: String?
            /// ISO 3166-1 alpha-3 code.
            public var iso3: String?
        }

        /// Latitude and longitude.
        public struct Coordinates: Sendable, Hashable, Codable {
            /// Latitude.
            public var latitude: Double?
            /// Longitude.
            public var longitude: Double?
        }

        /// A time zone.
        public struct TimeZone: Sendable, Hashable, Codable {
            /// Name.
            public var name: String?
            /// Smallest UTC offset, such as `"+1"`.
            public var utcOffsetMin: String?
            /// Largest UTC offset.
            public var utcOffsetMax: String?
        }
    }

    /// The carrier.
    public struct Carrier: Sendable, Hashable, Codable {
        /// Carrier name.
        public var name: String?
    }

    /// Blocklisting.
    public struct Blocklisting: Sendable, Hashable, Codable {
        /// Whether the number is blocked.
        public var blocked: Bool?
        /// The block code.
        public var blockCode: Int?
        /// The block reason.
        public var blockDescription: String?
    }

    /// The risk verdict.
    public struct Risk: Sendable, Hashable, Codable {
        /// `low`, `medium-low`, `medium-high` or `high`.
        public var level: String?
        /// `allow`, `flag` or `block`.
        public var recommendation: String?
        /// Score from 0 to 1000.
        public var score: Int?
    }

    /// One TeleSign error entry.
    public struct ProviderError: Sendable, Hashable, Codable {
        /// TeleSign error code, such as 10019.
        public var code: Int?
        /// Error text.
        public var description: String?
    }
}
