/// The outer phone risk response `{"status": bool, "data": {...}, "errors"?: [...]}`.
struct PhoneRiskEnvelope: JSONTreeReadable {
    /// Whether the provider says the request succeeded.
    let status: Bool
    /// The `data` object, raw and typed.
    let data: Captured<PhoneRiskData>?
    /// Errors given beside `data` rather than inside it.
    let errors: [PhoneRiskData.ProviderError]?

    init(reading object: JSONTreeReader) throws(ScoringError) {
        status = try object.requiredBool("status")
        data = object.captured("data")
        errors = try object.objects("errors")
    }
}
