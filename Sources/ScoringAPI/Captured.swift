/// A JSON value decoded twice from the same place: once raw, once typed (the typed failure is kept, not thrown).
struct Captured<Typed: Decodable & Sendable>: Decodable, Sendable {
    /// The value exactly as received.
    let raw: JSONValue
    /// The typed view, or the decoding error naming the field.
    let typed: Result<Typed, ScoringError>

    /// Decodes the raw value, then the typed view from the same decoder.
    init(from decoder: any Decoder) throws {
        if let tree = decoder as? JSONValueDecoder {
            raw = tree.value
        } else {
            raw = try JSONValue(from: decoder)
        }
        do {
            typed = .success(try Typed(from: decoder))
        } catch let error as DecodingError {
            typed = .failure(.decoding(error))
        } catch {
            typed = .failure(.decoding(path: "(body)", "\(error)"))
        }
    }
}
