/// A typed view of a provider answer that can be read from the parsed ``JSONValue`` tree.
protocol JSONTreeReadable: Sendable {
    /// Reads the view from one JSON object, failing with the path of the first field that does not fit.
    init(reading object: JSONTreeReader) throws(ScoringError)
}

/// Reads one JSON object of an already parsed tree into a typed view: the field lookups of a `Decodable`
/// conformance without the `Decoder` machinery. Failures are decoding errors naming the same field path as
/// `JSONDecoder` would for the `Decodable` form (absent and null optional fields are nil; a fraction where an
/// integer belongs is a type mismatch).
struct JSONTreeReader {
    /// The object's members.
    let members: [String: JSONValue]
    /// Where the object sits in the document.
    let location: Location

    /// A position in the document, as links to the parent; turned into text only for an error.
    indirect enum Location: Sendable {
        /// The whole document.
        case root
        /// Member `name` of the object at `parent`.
        case member(String, parent: Location)
        /// Element `index` of the array at `parent`.
        case element(Int, parent: Location)

        /// The path as decoding errors name it: `data.risk.score`, `[1].phone`, `(body)` for the root.
        var path: String {
            var parts: [String] = []
            var location = self
            while true {
                switch location {
                case .root:
                    let text = parts.reversed().reduce(into: "") { text, part in
                        text += part.hasPrefix("[") || text.isEmpty ? part : "." + part
                    }
                    return text.isEmpty ? "(body)" : text
                case .member(let name, let parent):
                    parts.append(name)
                    location = parent
                case .element(let index, let parent):
                    parts.append("[\(index)]")
                    location = parent
                }
            }
        }
    }

    /// Reads `value` as an object found at `location`.
    init(_ value: JSONValue, at location: Location) throws(ScoringError) {
        guard case .object(let members) = value else { throw Self.mismatch([String: JSONValue].self, value, location) }
        self.members = members
        self.location = location
    }

    /// Reads a whole `T` from `value` found at `location`.
    static func read<T: JSONTreeReadable>(_ type: T.Type, from value: JSONValue, at location: Location = .root)
        throws(ScoringError) -> T
    {
        try T(reading: JSONTreeReader(value, at: location))
    }

    // MARK: - optional members (absent or null: nil)

    /// An optional string member.
    func string(_ name: String) throws(ScoringError) -> String? {
        guard let value = present(name) else { return nil }
        return try Self.string(value, at: .member(name, parent: location))
    }

    /// An optional integer member.
    func int(_ name: String) throws(ScoringError) -> Int? {
        guard let value = present(name) else { return nil }
        return try Self.int(value, at: .member(name, parent: location))
    }

    /// An optional boolean member.
    func bool(_ name: String) throws(ScoringError) -> Bool? {
        guard let value = present(name) else { return nil }
        guard case .bool(let result) = value else { throw Self.mismatch(Bool.self, value, .member(name, parent: location)) }
        return result
    }

    /// An optional number member (integers are accepted).
    func double(_ name: String) throws(ScoringError) -> Double? {
        guard let value = present(name) else { return nil }
        switch value {
        case .double(let result): return result
        case .integer(let result): return Double(result)
        default: throw Self.mismatch(Double.self, value, .member(name, parent: location))
        }
    }

    /// An optional array of integers.
    func ints(_ name: String) throws(ScoringError) -> [Int]? {
        guard let value = present(name) else { return nil }
        let at = Location.member(name, parent: location)
        guard case .array(let elements) = value else { throw Self.mismatch([Int].self, value, at) }
        var result: [Int] = []
        result.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            result.append(try Self.int(element, at: .element(index, parent: at)))
        }
        return result
    }

    /// An optional nested object.
    func object<T: JSONTreeReadable>(_ name: String) throws(ScoringError) -> T? {
        guard let value = present(name) else { return nil }
        return try Self.read(T.self, from: value, at: .member(name, parent: location))
    }

    /// An optional array of objects.
    func objects<T: JSONTreeReadable>(_ name: String) throws(ScoringError) -> [T]? {
        guard let value = present(name) else { return nil }
        let at = Location.member(name, parent: location)
        guard case .array(let elements) = value else { throw Self.mismatch([T].self, value, at) }
        var result: [T] = []
        result.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            result.append(try Self.read(T.self, from: element, at: .element(index, parent: at)))
        }
        return result
    }

    /// An optional object whose members are all objects of one kind, by name.
    func objectsByName<T: JSONTreeReadable>(_ name: String) throws(ScoringError) -> [String: T]? {
        guard let value = present(name) else { return nil }
        let at = Location.member(name, parent: location)
        guard case .object(let entries) = value else { throw Self.mismatch([String: T].self, value, at) }
        var result: [String: T] = [:]
        result.reserveCapacity(entries.count)
        for (key, entry) in entries {
            result[key] = try Self.read(T.self, from: entry, at: .member(key, parent: at))
        }
        return result
    }

    // MARK: - required members

    /// A required string member.
    func requiredString(_ name: String) throws(ScoringError) -> String {
        try Self.string(required(name), at: .member(name, parent: location))
    }

    /// A required integer member.
    func requiredInt(_ name: String) throws(ScoringError) -> Int {
        try Self.int(required(name), at: .member(name, parent: location))
    }

    /// A required boolean member.
    func requiredBool(_ name: String) throws(ScoringError) -> Bool {
        let value = try required(name)
        guard case .bool(let result) = value else { throw Self.mismatch(Bool.self, value, .member(name, parent: location)) }
        return result
    }

    // MARK: - conversions

    private func present(_ name: String) -> JSONValue? {
        guard let value = members[name] else { return nil }
        if case .null = value { return nil }
        return value
    }

    private func required(_ name: String) throws(ScoringError) -> JSONValue {
        guard let value = members[name] else {
            throw .decoding(path: Location.member(name, parent: location).path, "required field is missing")
        }
        return value
    }

    private static func string(_ value: JSONValue, at location: Location) throws(ScoringError) -> String {
        guard case .string(let result) = value else { throw mismatch(String.self, value, location) }
        return result
    }

    private static func int(_ value: JSONValue, at location: Location) throws(ScoringError) -> Int {
        guard case .integer(let wide) = value else { throw mismatch(Int.self, value, location) }
        guard let result = Int(exactly: wide) else { throw .decoding(path: location.path, "invalid value") }
        return result
    }

    /// The error `ScoringError.decoding(_:)` gives for `JSONDecoder`'s type mismatch at the same place.
    static func mismatch(_ type: Any.Type, _ value: JSONValue, _ location: Location) -> ScoringError {
        if case .null = value { return .decoding(path: location.path, "expected \(type), found null or nothing") }
        return .decoding(path: location.path, "expected \(type)")
    }
}
