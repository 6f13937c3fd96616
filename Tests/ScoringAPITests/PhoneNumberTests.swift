import ScoringAPI
import Testing

@Suite struct PhoneNumberTests {
    @Test(arguments: [
        ("+436501234567", "+436501234567"),
        ("+43 650 123 4567", "+436501234567"),
        ("+1 (415) 555-0100", "+14155550100"),
        ("+385.91.234.5678", "+385912345678"),
        ("+12345678", "+12345678"),
        ("+123456789012345", "+123456789012345"),
    ])
    func acceptsE164(input: String, expected: String) throws {
        let phone = try PhoneNumber(input)
        #expect(phone.e164 == expected)
        #expect(phone.msisdn == String(expected.dropFirst()))
        #expect("\(phone)" == expected)
    }

    @Test(arguments: [
        "06501234567",  // national format
        "436501234567",  // no +
        "+0436501234567",  // first digit 0
        "+1234567",  // 7 digits
        "+1234567890123456",  // 16 digits
        "+43650abc4567",  // letters
        "+43 650/123",  // slash is not stripped
        "",
        "+",
        "++436501234567",
    ])
    func rejectsOthers(input: String) {
        do {
            _ = try PhoneNumber(input)
            Issue.record("\(input) was accepted")
        } catch {
            #expect(error.code == "invalid-number")
            #expect(error.disposition == .permanent)
        }
    }

    @Test func msisdnRoundTrip() throws {
        let phone = try PhoneNumber(msisdn: "38591234567")
        #expect(phone.e164 == "+38591234567")
        #expect(throws: ScoringError.self) { try PhoneNumber(msisdn: "+38591234567") }
    }
}
