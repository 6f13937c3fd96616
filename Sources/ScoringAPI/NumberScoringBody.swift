/// The number scoring response body: an array of records, or a single record object.
struct NumberScoringBody: Sendable {
    /// The records, raw and typed, in the order received.
    let elements: [Captured<NumberScoringRecord.Fields>]

    /// Accepts an array of objects or one object; anything else is a decoding error at `(body)`.
    init(_ tree: JSONValue) throws(ScoringError) {
        switch tree {
        case .array(let values):
            elements = values.enumerated().map { Captured($1, at: .element($0, parent: .root)) }
        case .object:
            elements = [Captured(tree, at: .root)]
        default:
            throw .decoding(path: "(body)", "expected \([JSONValue].self)")
        }
    }
}
