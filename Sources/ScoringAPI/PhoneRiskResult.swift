/// A successful phone risk answer: typed fields plus the `data` object exactly as received.
public struct PhoneRiskResult: Sendable, Hashable {
    /// The typed view of `data`.
    public let data: PhoneRiskData
    /// The whole `data` object as received, as a tree.
    public let rawData: JSONValue
    /// The whole `data` object's bytes exactly as received (UTF-8, one JSON object), to copy into outputs.
    public let dataJSON: [UInt8]
    /// The status code: 300 complete or 301 partially complete.
    public let statusCode: Int

    /// Creates a result from its parts; `dataJSON` is written from `rawData` when not given.
    public init(data: PhoneRiskData, rawData: JSONValue, dataJSON: [UInt8]? = nil, statusCode: Int) {
        self.data = data
        self.rawData = rawData
        self.dataJSON = dataJSON ?? rawData.jsonBytes(sortedKeys: false)
        self.statusCode = statusCode
    }

    /// True when the provider answered 301 (partially complete): some fields may be missing.
    public var isPartial: Bool { statusCode == 301 }
    /// The risk level, such as `medium-low`.
    public var riskLevel: String? { data.risk?.level }
    /// The recommendation: `allow`, `flag` or `block`.
    public var recommendation: String? { data.risk?.recommendation }
    /// The risk score, 0 to 1000.
    public var score: Int? { data.risk?.score }
    /// The phone type code as a string, such as `"2"`.
    public var phoneTypeCode: String? { data.phoneType?.code }
    /// The phone type name, such as `MOBILE`.
    public var phoneTypeDescription: String? { data.phoneType?.description }
    /// The carrier name.
    public var carrierName: String? { data.carrier?.name }
    /// The country's ISO alpha-2 code.
    public var countryISO2: String? { data.location?.country?.iso2 }
    /// The country's name.
    public var countryName: String? { data.location?.country?.name }
    /// Whether the number is blocklisted.
    public var isBlocked: Bool? { data.blocklisting?.blocked }
}
