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

    @Test(arguments: ["", "{", #"{"a":1,}"#, "[1 2]", "01", "1.", "-", #""\ud800""#, #""a"#, "tru", "{} x", "\"\u{01}\"", "[" + String(repeating: "[", count: 600)])
    func rejectsWhatIsNotJSON(text: String) {
        #expect(throws: JSONValueParser.Failure.self) { try JSONValueParser.parse(Array(text.utf8)) }
    }
}
