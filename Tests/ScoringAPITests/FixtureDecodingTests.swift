import Foundation
import NIOCore
import Testing
@testable import ScoringAPI

@Suite struct FixtureDecodingTests {
    private func fixture() throws -> Data {
        let url = try #require(
            Bundle.module.url(forResource: "phone-risk-score-example", withExtension: "json", subdirectory: "Fixtures"))
        return try Data(contentsOf: url)
    }

    @Test func decodesTheSeedExample() throws {
        let data = try fixture()
        let reply = ProviderTransport.Reply(status: 200, retryAfter: nil, body: ByteBuffer(bytes: Array(data)))
        let result = try PhoneRiskClient.interpret(reply)
        #expect(result.statusCode == 300)
        #expect(!result.isPartial)
        #expect(result.data.referenceId == "3661FDC7EAA8111C93048FA6FB8C300C")
        #expect(result.data.externalId == nil)
        #expect(result.data.status?.description == "Transaction successfully completed")
        #expect(result.data.numbering?.original?.completePhoneNumber == "+436501234567")
        #expect(result.data.numbering?.cleansing?.sms?.maxLength == 13)
        #expect(result.data.riskInsights?.status == 800)
        #expect(result.data.riskInsights?.category == [10010])
        #expect(result.data.riskInsights?.a2P == [22001, 20011, 20101])
        #expect(result.data.riskInsights?.p2P == [30201])
        #expect(result.data.riskInsights?.numberType == [])
        #expect(result.phoneTypeCode == "2")
        #expect(result.phoneTypeDescription == "MOBILE")
        #expect(result.data.location?.city == "Countrywide")
        #expect(result.data.location?.state == nil)
        #expect(result.countryName == "Austria")
        #expect(result.countryISO2 == "AT")
        #expect(result.data.location?.country?.iso3 == "AUT")
        #expect(result.data.location?.timeZone?.utcOffsetMin == "+1")
        #expect(result.carrierName == "T-Mobile Austria GmbH")
        #expect(result.isBlocked == false)
        #expect(result.data.blocklisting?.blockDescription == "Not blocked")
        #expect(result.riskLevel == "medium-low")
        #expect(result.recommendation == "allow")
        #expect(result.score == 301)

        // The raw `data` is exactly the fixture's `data`, keys a2P/p2P and the string phoneType.code included.
        let whole = try JSONDecoder().decode(JSONValue.self, from: data)
        #expect(result.rawData == whole["data"])
        #expect(result.rawData["riskInsights"]?["a2P"] == [22001, 20011, 20101])
        #expect(result.rawData["phoneType"]?["code"] == .string("2"))
        #expect(result.rawData["externalId"] == .null)
    }

    @Test func requestUsesPhoneNumberNotPhone() throws {
        let request = PhoneRiskRequest(
            phoneNumber: try PhoneNumber("+436501234567"), accountLifecycleEvent: .signIn, externalId: "1234567890",
            emailAddress: "test@example.com")
        let encoded = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(request))
        #expect(encoded["phoneNumber"] == "+436501234567")
        #expect(encoded["phone"] == nil)
        #expect(encoded["accountLifecycleEvent"] == "sign-in")
        #expect(encoded["externalId"] == "1234567890")
        #expect(encoded["deviceId"] == nil)
    }

    @Test func requestBodyIsTheEncodableForm() throws {
        let full = PhoneRiskRequest(
            phoneNumber: try PhoneNumber("+436501234567"), accountLifecycleEvent: .signIn, externalId: "id \"1\"\n",
            originatingIp: "2001:db8::1", deviceId: "dev-ü", accountId: "acct/7", emailAddress: "test@example.com")
        let bare = PhoneRiskRequest(phoneNumber: try PhoneNumber("+38591234567"), accountLifecycleEvent: .delete)
        for request in [full, bare] {
            let viaEncoder = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(request))
            let written = try JSONDecoder().decode(JSONValue.self, from: Data(request.jsonBody()))
            #expect(written == viaEncoder)
        }
        #expect(
            try JSONDecoder().decode(JSONValue.self, from: Data(bare.jsonBody()))
                == ["phoneNumber": "+38591234567", "accountLifecycleEvent": "delete"])
    }

    @Test func numberScoringRequestShape() throws {
        let request = NumberScoringRequest(numbers: [try PhoneNumber("+38591234567")], callbackURL: "https://example.com/cb")
        let encoded = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(request))
        #expect(encoded == ["msisdn": ["38591234567"], "callback_url": "https://example.com/cb"])
    }

    @Test(arguments: [
        (nil as Int?, [10019], "10019", ScoringError.Disposition.retriable),
        (500, [], "500", .permanent),
        (501, [], "501", .accountLevel),
        (599, [], "599", .retriable),
        (500, [10013], "10013", .accountLevel),
        (500, [10015], "10015", .accountLevel),
        (500, [11020, 10019], "11020", .permanent),
        (500, [10019, 10020], "10020", .accountLevel),
        (500, [99999], "500", .permanent),
        (777, [], "777", .permanent),
    ])
    func phoneRiskClassification(status: Int?, codes: [Int], code: String, disposition: ScoringError.Disposition) {
        let errors = codes.map { PhoneRiskData.ProviderError(code: $0, description: "d") }
        let error = PhoneRiskClassification.failure(statusCode: status, errors: errors)
        #expect(error.code == code)
        #expect(error.disposition == disposition)
    }

    @Test func retryAfterParsing() {
        #expect(ProviderTransport.parseRetryAfter("7") == .seconds(7))
        #expect(ProviderTransport.parseRetryAfter(" 0 ") == .seconds(0))
        #expect(ProviderTransport.parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT") == .zero)
        #expect(ProviderTransport.parseRetryAfter("soon") == nil)
        #expect(ProviderTransport.parseRetryAfter(nil) == nil)
    }
}
