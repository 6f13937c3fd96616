import Foundation
import ScoringAPI
import Testing

@Suite struct JSONValueTests {
    @Test func decodesAndReencodesEveryKind() throws {
        let text = #"{"a":null,"b":true,"c":42,"d":1.5,"e":"x\"y\n","f":[1,"two",{"g":false}],"h":{}}"#
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(value["a"] == .null)
        #expect(value["b"] == .bool(true))
        #expect(value["c"] == .integer(42))
        #expect(value["d"] == .double(1.5))
        #expect(value["e"]?.stringValue == "x\"y\n")
        #expect(value["f"]?[2]?["g"] == .bool(false))
        #expect(value.jsonString() == text)
        let again = try JSONDecoder().decode(JSONValue.self, from: Data(value.jsonBytes()))
        #expect(again == value)
        let viaEncoder = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
        #expect(viaEncoder == value)
    }

    @Test func escapesControlCharacters() {
        let value: JSONValue = ["k": .string("\u{01}tab\t")]
        #expect(value.jsonString() == #"{"k":"\u0001tab\t"}"#)
    }
}
