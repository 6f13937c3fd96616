/// Why an input record is not a valid lifecycle event: a stable `code` slug (the dead-letter header
/// `risk.error.code`) and a human `message` (the header `risk.error.message`).
public struct ValidationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The stable slug, e.g. `invalid-json`, `missing-field:phoneNumber`, `invalid-type:externalId`.
    public let code: String
    /// A human explanation of the problem, never containing more than a short excerpt of the input.
    public let message: String

    /// Creates an error from its code and message.
    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    /// `code: message`.
    public var description: String { "\(code): \(message)" }

    /// The record value is larger than the limit (`too-large`).
    public static func tooLarge(size: Int, limit: Int) -> ValidationError {
        ValidationError(code: "too-large", message: "the record value has \(size) bytes, more than the limit of \(limit)")
    }

    /// The record value is not valid UTF-8 (`invalid-utf8`).
    public static let invalidUTF8 = ValidationError(code: "invalid-utf8", message: "the record value is not valid UTF-8")

    /// The record value is not one strict JSON document (`invalid-json`).
    public static func invalidJSON(_ detail: String) -> ValidationError {
        ValidationError(code: "invalid-json", message: "the record value is not valid JSON: \(detail)")
    }

    /// The JSON document is not an object (`not-an-object`).
    public static func notAnObject(found kind: String) -> ValidationError {
        ValidationError(code: "not-an-object", message: "the event must be a JSON object, found \(kind)")
    }

    /// A required field is absent or null (`missing-field:<name>`).
    public static func missingField(_ name: String) -> ValidationError {
        ValidationError(code: "missing-field:\(name)", message: "the required field \(name) is missing or null")
    }

    /// A field has the wrong JSON type (`invalid-type:<name>`).
    public static func invalidType(_ name: String, expected: String, found: String) -> ValidationError {
        ValidationError(code: "invalid-type:\(name)", message: "the field \(name) must be \(expected), found \(found)")
    }

    /// A field is a string but not an acceptable value (`invalid-external-id`, `invalid-phone-number`, ...).
    public static func invalidValue(code: String, _ message: String) -> ValidationError {
        ValidationError(code: code, message: message)
    }
}
