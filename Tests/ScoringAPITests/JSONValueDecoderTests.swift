import Foundation
import Testing
@testable import ScoringAPI

@Suite struct JSONValueDecoderTests {
    private func viaTree<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONValueDecoder.decode(T.self, from: JSONValueParser.parse(Array(text.utf8)))
    }

    /// The path `ScoringError` reports for a failure, which is what dead letters name.
    private func failurePath<T: Decodable>(_ type: T.Type, _ text: String, tree: Bool) -> String? {
        do {
            _ = tree ? try viaTree(T.self, text) : try JSONDecoder().decode(T.self, from: Data(text.utf8))
            return nil
        } catch let error as DecodingError {
            guard case .decoding(let path) = ScoringError.decoding(error).kind else { return nil }
            return path
        } catch {
            return "unexpected \(error)"
        }
    }

    @Test func decodesTheSeedExampleLikeJSONDecoder() throws {
        let url = try #require(
            Bundle.module.url(forResource: "phone-risk-score-example", withExtension: "json", subdirectory: "Fixtures"))
        let data = try Data(contentsOf: url)
        let tree = try JSONValueParser.parse([UInt8](data))
        let data1 = try #require(tree["data"])
        let viaTree = try JSONValueDecoder.decode(PhoneRiskData.self, from: data1)
        let viaFoundation = try JSONDecoder().decode(JSONValue.self, from: data)["data"].map {
            try JSONDecoder().decode(PhoneRiskData.self, from: JSONEncoder().encode($0))
        }
        #expect(viaTree == viaFoundation)
        #expect(viaTree.riskInsights?.a2P == [22001, 20011, 20101])
        #expect(viaTree.location?.country?.iso3 == "AUT")
    }

    @Test func decodesNumberScoringRecordsLikeJSONDecoder() throws {
        let text = """
            [{"date":"2024-01-01","msisdn":"38591234567","response":0,"phone":{"ported_times":2,"type":"mobile"},
              "scoring":{"credibility":"high"},"security":{"data_breaches_count":3,"is_disposable":"no"},
              "social_presence":{"whatsapp":{"has":"yes","is_business":"no"},"x":{"has":"n/a"}}},
             {"msisdn":"38591234568","response":6,"phone":null}]
            """
        let viaTree = try viaTree([NumberScoringRecord.Fields].self, text)
        let viaFoundation = try JSONDecoder().decode([NumberScoringRecord.Fields].self, from: Data(text.utf8))
        #expect(viaTree == viaFoundation)
        #expect(viaTree.first?.socialPresence?["whatsapp"]?.isBusiness == "no")
        #expect(viaTree.last?.phone == nil)
    }

    @Test(arguments: [
        #"{"risk":{"score":"high"}}"#,
        #"{"riskInsights":{"category":[1,"x"]}}"#,
        #"{"errors":[{"code":1},{"code":true}]}"#,
        #"{"location":{"coordinates":{"latitude":"north"}}}"#,
        #"{"blocklisting":{"blocked":1}}"#,
        #"[]"#,
    ])
    func reportsTheSameFieldPathAsJSONDecoder(text: String) {
        let tree = failurePath(PhoneRiskData.self, text, tree: true)
        #expect(tree != nil)
        #expect(tree == failurePath(PhoneRiskData.self, text, tree: false))
    }

    @Test func missingAndNullRequiredFieldsAreNamed() {
        #expect(failurePath(NumberScoringRecord.Fields.self, #"{"response":0}"#, tree: true) == "msisdn")
        #expect(failurePath(NumberScoringRecord.Fields.self, #"{"msisdn":null,"response":0}"#, tree: true) == "msisdn")
        #expect(failurePath([NumberScoringRecord.Fields].self, #"[{"msisdn":"1","response":0,"phone":{"ported_times":"2"}}]"#, tree: true)
            == "[0].phone.ported_times")
        // JSONDecoder reports "(body)" for a fraction where an integer belongs; the tree names the field.
        #expect(failurePath(PhoneRiskData.self, #"{"status":{"code":3.5}}"#, tree: true) == "status.code")
    }
}
