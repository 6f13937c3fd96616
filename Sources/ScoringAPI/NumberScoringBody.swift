/// The number scoring response body: an array of records, or a single record object.
struct NumberScoringBody: Sendable {
    /// The records, raw and typed, in the order received.
    let elements: [Captured<NumberScoringRecord.Fields>]
    /// Each record's bytes exactly as received, in the same order; empty when read from a tree alone.
    let elementJSON: [[UInt8]]

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
        elementJSON = []
    }

    /// The records of a parsed reply, each with its bytes as received.
    init(_ parsed: ProviderTransport.ParsedBody) throws(ScoringError) {
        let tree = try Self(parsed.value)
        elements = tree.elements
        switch parsed.value {
        case .array: elementJSON = parsed.document.elementRanges.map(parsed.bytes)
        default: elementJSON = [parsed.bytes(parsed.document.range)]
        }
    }

    /// The bytes of the record at `index` as received, nil when read from a tree alone.
    func json(at index: Int) -> [UInt8]? {
        elementJSON.indices.contains(index) ? elementJSON[index] : nil
    }
}
