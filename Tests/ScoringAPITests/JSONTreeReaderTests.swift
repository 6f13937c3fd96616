import Foundation
import Testing
@testable import ScoringAPI

@Suite struct JSONTreeReaderTests {
    private func viaTree<T: JSONTreeReadable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONTreeReader.read(T.self, from: JSONValueParser.parse(Array(text.utf8)))
    }

    /// The path `ScoringError` reports for a failure, which is what dead letters name: read from the tree, or
    /// decoded by `JSONDecoder` from the `Decodable` form.
    private func failurePath<T: JSONTreeReadable & Decodable>(_ type: T.Type, _ text: String, tree: Bool) -> String? {
        do {
            _ = tree ? try viaTree(T.self, text) : try JSONDecoder().decode(T.self, from: Data(text.utf8))
            return nil
        } catch let error as ScoringError {
            guard case .decoding(let path) = error.kind else { return "unexpected \(error)" }
            return path
        } catch let error as DecodingError {
            guard case .decoding(let path) = ScoringError.decoding(error).kind else { return nil }
            return path
        } catch {
            return "unexpected \(error)"
        }
    }

    /// Records read one by one from an array, as the number scoring client does.
    private func records(_ text: String) throws -> [Result<NumberScoringRecord.Fields, ScoringError>] {
        try NumberScoringBody(JSONValueParser.parse(Array(text.utf8))).elements.map(\.typed)
    }

    @Test func decodesTheSeedExampleLikeJSONDecoder() throws {
        let url = try #require(
            Bundle.module.url(forResource: "phone-risk-score-example", withExtension: "json", subdirectory: "Fixtures"))
        let data = try Data(contentsOf: url)
        let tree = try JSONValueParser.parse([UInt8](data))
        let data1 = try #require(tree["data"])
        let viaTree = try JSONTreeReader.read(PhoneRiskData.self, from: data1)
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
        let viaTree = try records(text).map { try $0.get() }
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
        #"{"numbering":{"cleansing":{"sms":{"minLength":"8"}}}}"#,
        #"{"location":{"timeZone":[]}}"#,
        #"{"errors":{"code":1}}"#,
        #"{"errors":[null]}"#,
        #"{"riskInsights":{"a2P":[null]}}"#,
        #"{"status":{"code":true,"description":5}}"#,
        #"[]"#,
        #""data""#,
    ])
    func reportsTheSameFieldPathAsJSONDecoder(text: String) {
        let tree = failurePath(PhoneRiskData.self, text, tree: true)
        #expect(tree != nil)
        #expect(tree == failurePath(PhoneRiskData.self, text, tree: false))
    }

    @Test(arguments: [
        #"{"response":0}"#,
        #"{"msisdn":null,"response":0}"#,
        #"{"msisdn":"1","response":"0"}"#,
        #"{"msisdn":"1","response":0,"phone":{"ported_times":"2"}}"#,
        #"{"msisdn":"1","response":0,"security":{"data_breaches_count":[]}}"#,
        #"{"msisdn":"1","response":0,"social_presence":{"x":{"has":1}}}"#,
        #"{"msisdn":"1","response":0,"social_presence":[]}"#,
        #"{"msisdn":"1","response":0,"scoring":"high"}"#,
    ])
    func reportsTheSameRecordFieldPathAsJSONDecoder(text: String) {
        let tree = failurePath(NumberScoringRecord.Fields.self, text, tree: true)
        #expect(tree != nil)
        #expect(tree == failurePath(NumberScoringRecord.Fields.self, text, tree: false))
    }

    @Test(arguments: [
        #"{"access_token":"t","expires_in":3600,"token_type":"Bearer"}"#,
        #"{"access_token":"t"}"#,
        #"{"expires_in":3600}"#,
        #"{"access_token":"t","expires_in":"3600"}"#,
        #"{"access_token":5}"#,
    ])
    func readsTokenAnswersLikeJSONDecoder(text: String) {
        let tree = try? viaTree(TokenResponse.self, text)
        #expect(tree == (try? JSONDecoder().decode(TokenResponse.self, from: Data(text.utf8))))
        #expect(failurePath(TokenResponse.self, text, tree: true) == failurePath(TokenResponse.self, text, tree: false))
    }

    @Test func phoneRiskEnvelopeNeedsItsStatusAndKeepsABadDataObjectRaw() throws {
        #expect(throws: ScoringError.decoding(path: "status", "required field is missing")) {
            try viaTree(PhoneRiskEnvelope.self, #"{"data":{}}"#)
        }
        let envelope = try viaTree(PhoneRiskEnvelope.self, #"{"status":true,"data":{"risk":{"score":"x"}}}"#)
        #expect(envelope.data?.raw == ["risk": ["score": "x"]])
        #expect(throws: ScoringError.decoding(path: "data.risk.score", "expected Int")) { try envelope.data?.typed.get() }
    }

    @Test func missingAndNullRequiredFieldsAreNamed() throws {
        #expect(failurePath(NumberScoringRecord.Fields.self, #"{"response":0}"#, tree: true) == "msisdn")
        #expect(failurePath(NumberScoringRecord.Fields.self, #"{"msisdn":null,"response":0}"#, tree: true) == "msisdn")
        let typed = try records(#"[{"msisdn":"1","response":0},{"msisdn":"2","response":0,"phone":{"ported_times":"2"}}]"#)
        #expect((try? typed[0].get())?.msisdn == "1")
        #expect(throws: ScoringError.decoding(path: "[1].phone.ported_times", "expected Int")) { try typed[1].get() }
        #expect(throws: ScoringError.decoding(path: "(body)", "expected Array<JSONValue>")) {
            try NumberScoringBody(.string("x"))
        }
        // JSONDecoder reports "(body)" for a fraction where an integer belongs; the tree names the field.
        #expect(failurePath(PhoneRiskData.self, #"{"status":{"code":3.5}}"#, tree: true) == "status.code")
    }
}
