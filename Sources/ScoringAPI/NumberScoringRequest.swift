/// The JSON body of `POST {base}/lookup/number-scoring`.
public struct NumberScoringRequest: Sendable, Hashable, Codable {
    /// The msisdns to look up (country code and subscriber number, digits only).
    public var msisdn: [String]
    /// An optional URL to receive the results by callback.
    public var callbackURL: String?

    /// Creates a request for `numbers`, sent in msisdn form.
    public init(numbers: [PhoneNumber], callbackURL: String? = nil) {
        self.msisdn = numbers.map(\.msisdn)
        self.callbackURL = callbackURL
    }

    enum CodingKeys: String, CodingKey {
        case msisdn
        case callbackURL = "callback_url"
    }
}
