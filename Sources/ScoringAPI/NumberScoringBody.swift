/// The number scoring response body: an array of records, or a single record object.
struct NumberScoringBody: Decodable, Sendable {
    /// The records, raw and typed, in the order received.
    let elements: [Captured<NumberScoringRecord.Fields>]

    /// Accepts an array of objects or one object; anything else is a decoding error at `(body)`.
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let elements = try? container.decode([Captured<NumberScoringRecord.Fields>].self) {
            self.elements = elements
        } else {
            let single = try container.decode(Captured<NumberScoringRecord.Fields>.self)
            guard case .object = single.raw else {
                throw DecodingError.typeMismatch(
                    [JSONValue].self,
                    .init(codingPath: [], debugDescription: "expected an array of records or one record object"))
            }
            self.elements = [single]
        }
    }
}
