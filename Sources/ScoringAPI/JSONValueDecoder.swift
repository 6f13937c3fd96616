/// A `Decoder` over an already parsed ``JSONValue`` tree: the typed views of provider answers without parsing the
/// bytes a second time. Errors are `DecodingError`s with the same coding paths `JSONDecoder` would report.
struct JSONValueDecoder: Decoder {
    /// The value this decoder reads.
    let value: JSONValue
    /// Where `value` sits in the whole document.
    let node: CodingPathNode
    /// Always empty.
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// Where `value` sits in the whole document, as `Decoder` reports it.
    var codingPath: [any CodingKey] { node.path }

    /// Decodes a `T` from the whole tree `value`.
    static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try T(from: JSONValueDecoder(value: value, node: .root))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else {
            throw DecodingError.typeMismatch(
                [String: JSONValue].self, .init(codingPath: codingPath, debugDescription: "expected an object"))
        }
        return KeyedDecodingContainer(KeyedContainer<Key>(members: members, node: node))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else {
            throw DecodingError.typeMismatch(
                [JSONValue].self, .init(codingPath: codingPath, debugDescription: "expected an array"))
        }
        return UnkeyedContainer(elements: elements, node: node)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleValueContainer(value: value, node: node)
    }
}

/// A coding path kept as links to the parent, so that decoding a member does not copy the path; the array form is
/// built only when an error or a caller asks for it.
indirect enum CodingPathNode {
    /// The whole document.
    case root
    /// A member or element `key` of the value at `parent`.
    case child(any CodingKey, parent: CodingPathNode)

    /// The path from the root, outermost key first.
    var path: [any CodingKey] {
        var keys: [any CodingKey] = []
        var node = self
        while case .child(let key, let parent) = node {
            keys.append(key)
            node = parent
        }
        return keys.reversed()
    }

    /// The path of `key` below this node.
    func path(appending key: any CodingKey) -> [any CodingKey] { path + [key] }
}

/// The conversions from one JSON value to the primitive types `Decodable` asks for.
private enum Primitive {
    // Paths are closures: they are built only when a value does not fit.
    typealias Path = () -> [any CodingKey]

    static func mismatch(_ type: Any.Type, _ value: JSONValue, _ path: Path) -> DecodingError {
        if case .null = value {
            return .valueNotFound(type, .init(codingPath: path(), debugDescription: "found null"))
        }
        return .typeMismatch(type, .init(codingPath: path(), debugDescription: "expected \(type)"))
    }

    static func bool(_ value: JSONValue, _ path: Path) throws -> Bool {
        guard case .bool(let result) = value else { throw mismatch(Bool.self, value, path) }
        return result
    }

    static func string(_ value: JSONValue, _ path: Path) throws -> String {
        guard case .string(let result) = value else { throw mismatch(String.self, value, path) }
        return result
    }

    static func double(_ value: JSONValue, _ path: Path) throws -> Double {
        switch value {
        case .double(let result): return result
        case .integer(let result): return Double(result)
        default: throw mismatch(Double.self, value, path)
        }
    }

    static func integer<T: FixedWidthInteger>(_ type: T.Type, _ value: JSONValue, _ path: Path) throws -> T {
        guard case .integer(let wide) = value else { throw mismatch(T.self, value, path) }
        guard let result = T(exactly: wide) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: path(), debugDescription: "number \(wide) does not fit in \(T.self)"))
        }
        return result
    }

    /// `[Int]` without a nested decoder: the provider's code lists.
    static func integers(_ value: JSONValue, _ node: @autoclosure () -> CodingPathNode) throws -> [Int] {
        guard case .array(let elements) = value else { throw mismatch([Int].self, value) { node().path } }
        var result: [Int] = []
        result.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            result.append(try integer(Int.self, element) { node().path(appending: IndexKey(index)) })
        }
        return result
    }

    /// Decodes `value` as a `T` found at `key` below `parent` (or at `parent` itself when `key` is nil).
    static func decode<T: Decodable>(
        _ type: T.Type, _ value: JSONValue, at parent: CodingPathNode, _ key: (any CodingKey)?
    ) throws -> T {
        // The common leaf types skip the nested decoder; the type checks make the casts exact.
        func path() -> [any CodingKey] { key.map { parent.path(appending: $0) } ?? parent.path }
        if T.self == String.self { return unsafeBitCast(try string(value, path), to: T.self) }
        if T.self == Int.self { return unsafeBitCast(try integer(Int.self, value, path), to: T.self) }
        if T.self == Bool.self { return unsafeBitCast(try bool(value, path), to: T.self) }
        if T.self == Double.self { return unsafeBitCast(try double(value, path), to: T.self) }
        if T.self == JSONValue.self { return unsafeBitCast(value, to: T.self) }
        let node = key.map { CodingPathNode.child($0, parent: parent) } ?? parent
        if T.self == [Int].self { return unsafeBitCast(try integers(value, node), to: T.self) }
        return try T(from: JSONValueDecoder(value: value, node: node))
    }
}

/// A coding key for array positions in coding paths.
private struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "Index \(intValue ?? 0)" }
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { return nil }
    init?(intValue: Int) { self.intValue = intValue }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JSONValue]
    let node: CodingPathNode

    var codingPath: [any CodingKey] { node.path }

    var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    private func member(_ key: Key) throws -> JSONValue {
        guard let value = members[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: node.path, debugDescription: "no value for the key"))
        }
        return value
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        if case .null = try member(key) { return true }
        return false
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
        try Primitive.bool(member(key)) { node.path(appending: key) }
    }
    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        try Primitive.string(member(key)) { node.path(appending: key) }
    }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
        try Primitive.double(member(key)) { node.path(appending: key) }
    }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float {
        Float(try Primitive.double(member(key)) { node.path(appending: key) })
    }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try integer(key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try integer(key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try integer(key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try integer(key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try integer(key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try integer(key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try integer(key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try integer(key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try integer(key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try integer(key) }

    private func integer<T: FixedWidthInteger>(_ key: Key) throws -> T {
        try Primitive.integer(T.self, member(key)) { node.path(appending: key) }
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try Primitive.decode(T.self, member(key), at: node, key)
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let value = members[key.stringValue] else { return nil }
        if case .null = value { return nil }
        return try Primitive.decode(T.self, value, at: node, key)
    }

    // The synthesised `Decodable` code calls these for optional members of the common types.
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        guard let value = members[key.stringValue] else { return nil }
        if case .null = value { return nil }
        return try Primitive.string(value) { node.path(appending: key) }
    }

    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
        guard let value = members[key.stringValue] else { return nil }
        if case .null = value { return nil }
        return try Primitive.integer(Int.self, value) { node.path(appending: key) }
    }

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
        guard let value = members[key.stringValue] else { return nil }
        if case .null = value { return nil }
        return try Primitive.bool(value) { node.path(appending: key) }
    }

    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? {
        guard let value = members[key.stringValue] else { return nil }
        if case .null = value { return nil }
        return try Primitive.double(value) { node.path(appending: key) }
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try JSONValueDecoder(value: member(key), node: .child(key, parent: node)).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try JSONValueDecoder(value: member(key), node: .child(key, parent: node)).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        JSONValueDecoder(value: members["super"] ?? .null, node: node)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        JSONValueDecoder(value: members[key.stringValue] ?? .null, node: .child(key, parent: node))
    }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let node: CodingPathNode
    var currentIndex = 0

    init(elements: [JSONValue], node: CodingPathNode) {
        self.elements = elements
        self.node = node
    }

    var codingPath: [any CodingKey] { node.path }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private mutating func next<T>(_ type: T.Type, _ read: (JSONValue, Int) throws -> T) throws -> T {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                type,
                .init(codingPath: node.path(appending: IndexKey(currentIndex)), debugDescription: "the array has ended"))
        }
        let result = try read(elements[currentIndex], currentIndex)
        currentIndex += 1
        return result
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                JSONValue.self,
                .init(codingPath: node.path(appending: IndexKey(currentIndex)), debugDescription: "the array has ended"))
        }
        guard case .null = elements[currentIndex] else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool {
        try next(type) { [node] value, index in try Primitive.bool(value) { node.path(appending: IndexKey(index)) } }
    }
    mutating func decode(_ type: String.Type) throws -> String {
        try next(type) { [node] value, index in try Primitive.string(value) { node.path(appending: IndexKey(index)) } }
    }
    mutating func decode(_ type: Double.Type) throws -> Double {
        try next(type) { [node] value, index in try Primitive.double(value) { node.path(appending: IndexKey(index)) } }
    }
    mutating func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }
    mutating func decode(_ type: Int.Type) throws -> Int { try integer() }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try integer() }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try integer() }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try integer() }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try integer() }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try integer() }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try integer() }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try integer() }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try integer() }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try integer() }

    private mutating func integer<T: FixedWidthInteger>() throws -> T {
        try next(T.self) { [node] value, index in
            try Primitive.integer(T.self, value) { node.path(appending: IndexKey(index)) }
        }
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try next(type) { [node] value, index in try Primitive.decode(T.self, value, at: node, IndexKey(index)) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try next(KeyedDecodingContainer<NestedKey>.self) { [node] value, index in
            try JSONValueDecoder(value: value, node: .child(IndexKey(index), parent: node)).container(keyedBy: type)
        }
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next((any UnkeyedDecodingContainer).self) { [node] value, index in
            try JSONValueDecoder(value: value, node: .child(IndexKey(index), parent: node)).unkeyedContainer()
        }
    }

    mutating func superDecoder() throws -> any Decoder {
        try next((any Decoder).self) { [node] value, index in
            JSONValueDecoder(value: value, node: .child(IndexKey(index), parent: node))
        }
    }
}

private struct SingleValueContainer: SingleValueDecodingContainer {
    let value: JSONValue
    let node: CodingPathNode

    var codingPath: [any CodingKey] { node.path }

    func decodeNil() -> Bool {
        if case .null = value { return true }
        return false
    }

    func decode(_ type: Bool.Type) throws -> Bool { try Primitive.bool(value) { node.path } }
    func decode(_ type: String.Type) throws -> String { try Primitive.string(value) { node.path } }
    func decode(_ type: Double.Type) throws -> Double { try Primitive.double(value) { node.path } }
    func decode(_ type: Float.Type) throws -> Float { Float(try Primitive.double(value) { node.path }) }
    func decode(_ type: Int.Type) throws -> Int { try Primitive.integer(type, value) { node.path } }
    func decode(_ type: Int8.Type) throws -> Int8 { try Primitive.integer(type, value) { node.path } }
    func decode(_ type: Int16.Type) throws -> Int16 { try Primitive.integer(type, value) { node.path } }
    func decode(_ type: Int32.Type) throws -> Int32 { try Primitive.integer(type, value) { node.path } }
    func decode(_ type: Int64.Type) throws -> Int64 { try Primitive.integer(type, value) { node.path } }
    func decode(_ type: UInt.Type) throws -> UInt { try Primitive.integer(type, value) { node.path } }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try Primitive.integer(type, value) { node.path } }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try Primitive.integer(type, value) { node.path } }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try Primitive.integer(type, value) { node.path } }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try Primitive.integer(type, value) { node.path } }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try Primitive.decode(T.self, value, at: node, nil)
    }
}
