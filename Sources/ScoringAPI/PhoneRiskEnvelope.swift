/// The outer phone risk response `{"status": bool, "data": {...}, "errors"?: [...]}`.
struct PhoneRiskEnvelope: Decodable, Sendable {
    /// Whether the provider says the request succeeded.
    let status: Bool
    /// The `data` object, raw and typed.
    let data: Captured<PhoneRiskData>?
    /// Errors given beside `data` rather than inside it.
    let errors: [PhoneRiskData.ProviderError]?
}
