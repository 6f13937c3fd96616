/// A JSON value kept twice: exactly as received, and as its typed view (a typed failure is kept, not thrown).
struct Captured<Typed: JSONTreeReadable>: Sendable {
    /// The value exactly as received.
    let raw: JSONValue
    /// The typed view, or the decoding error naming the field.
    let typed: Result<Typed, ScoringError>

    /// Keeps `value`, found at `location` in the answer, and reads its typed view.
    init(_ value: JSONValue, at location: JSONTreeReader.Location) {
        raw = value
        do throws(ScoringError) {
            typed = .success(try JSONTreeReader.read(Typed.self, from: value, at: location))
        } catch {
            typed = .failure(error)
        }
    }
}

extension JSONTreeReader {
    /// An optional member kept raw and typed; nil when absent or null.
    func captured<T: JSONTreeReadable>(_ name: String) -> Captured<T>? {
        guard let value = members[name] else { return nil }
        if case .null = value { return nil }
        return Captured(value, at: .member(name, parent: location))
    }
}
