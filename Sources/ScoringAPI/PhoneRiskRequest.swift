/// The JSON body of `POST {base}/phone-service/phoneRiskScore`.
public struct PhoneRiskRequest: Sendable, Hashable, Codable {
    /// The number to score, sent as `phoneNumber` in E.164 form with `+`.
    public var phoneNumber: PhoneNumber
    /// The account action being evaluated.
    public var accountLifecycleEvent: AccountLifecycleEvent
    /// Customer-generated ID echoed in the response.
    public var externalId: String?
    /// The end user's IP address (IPv4 or IPv6).
    public var originatingIp: String?
    /// Case-sensitive device ID.
    public var deviceId: String?
    /// Case-sensitive account ID.
    public var accountId: String?
    /// Case-sensitive email address.
    public var emailAddress: String?

    /// Creates a request; optional fields are omitted from the body when nil.
    public init(
        phoneNumber: PhoneNumber,
        accountLifecycleEvent: AccountLifecycleEvent,
        externalId: String? = nil,
        originatingIp: String? = nil,
        deviceId: String? = nil,
        accountId: String? = nil,
        emailAddress: String? = nil
    ) {
        self.phoneNumber = phoneNumber
        self.accountLifecycleEvent = accountLifecycleEvent
        self.externalId = externalId
        self.originatingIp = originatingIp
        self.deviceId = deviceId
        self.accountId = accountId
        self.emailAddress = emailAddress
    }

    /// The request body: the same JSON as its `Encodable` form, written without `JSONEncoder` (one per event).
    public func jsonBody() -> [UInt8] {
        var members: [String: JSONValue] = [
            "phoneNumber": .string(phoneNumber.e164), "accountLifecycleEvent": .string(accountLifecycleEvent.rawValue),
        ]
        let optional = [
            ("externalId", externalId), ("originatingIp", originatingIp), ("deviceId", deviceId),
            ("accountId", accountId), ("emailAddress", emailAddress),
        ]
        for case (let name, let value?) in optional { members[name] = .string(value) }
        return JSONValue.object(members).jsonBytes()
    }
}
