import Foundation
import Testing
@testable import ScoringAPI

@Suite struct JSONValueParserTests {
    @Test func parsesLikeTheCodableDecoder() throws {
        let fixtures = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let files = try FileManager.default.contentsOfDirectory(at: fixtures, includingPropertiesForKeys: nil).filter { $0.pathExtension == "json" }
        #expect(!files.isEmpty)
        for file in files {
            let data = try Data(contentsOf: file)
            #expect(try JSONValueParser.parse([UInt8](data)) == JSONDecoder().decode(JSONValue.self, from: data), "\(file.lastPathComponent)")
        }
        let text = #"{"a":[1,-2.5e-3,true,false,null,"\u00e9\ud83d\ude00\n\"x\""],"b":{},"c":[],"d":0}"#
        #expect(try JSONValueParser.parse(Array(text.utf8)) == JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)))
    }

    private func slices(_ text: String, _ ranges: [Range<Int>]) -> [String] {
        let bytes = Array(text.utf8)
        return ranges.map { String(decoding: bytes[$0], as: UTF8.self) }
    }

    @Test func documentNotesWhereTheTopLevelMembersLieExactlyAsWritten() throws {
        let text = " {\"a\" : { \"x\": [1, 2.50] } ,\n \"b\":\"\\u00e9\", \"a\": {\"y\" :1e2}, \"c\": null }\n"
        let document = try Array(text.utf8).withUnsafeBufferPointer { try JSONValueParser.document($0) }
        #expect(slices(text, [document.range]) == [text.trimmingCharacters(in: .whitespacesAndNewlines)])
        // A repeated name: the last one, as in the value; nested members are not noted.
        #expect(document.memberRanges.keys.sorted() == ["a", "b", "c"])
        #expect(slices(text, [document.memberRanges["a"]!, document.memberRanges["b"]!, document.memberRanges["c"]!])
            == [#"{"y" :1e2}"#, #""\u00e9""#, "null"])
        #expect(document.elementRanges.isEmpty)
        #expect(document.value == ["a": ["y": .double(100)], "b": "é", "c": .null])
    }

    @Test func documentNotesWhereTheTopLevelElementsLie() throws {
        let text = #"[ {"m": [3, {"n": 4}]},"s" ,  7 ,[] ]"#
        let document = try Array(text.utf8).withUnsafeBufferPointer { try JSONValueParser.document($0) }
        #expect(slices(text, document.elementRanges) == [#"{"m": [3, {"n": 4}]}"#, #""s""#, "7", "[]"])
        #expect(document.memberRanges.isEmpty)
    }

    @Test(arguments: ["", "{", #"{"a":1,}"#, "[1 2]", "01", "1.", "-", #""\ud800""#, #""a"#, "tru", "{} x", "\"\u{01}\"", "[" + String(repeating: "[", count: 600)])
    func rejectsWhatIsNotJSON(text: String) {
        #expect(throws: JSONValueParser.Failure.self) { try JSONValueParser.parse(Array(text.utf8)) }
    }
}
