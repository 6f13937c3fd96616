import RiskEvents
import ScoringAPI
import Testing

@Suite struct PhoneNumberMaskTests {
    @Test(arguments: [
        ("+436501234567", "+43********67"),
        ("+14155550123", "+1********23"),
        ("+79161234567", "+7********67"),
        ("+3725123456", "+372*****56"),
        ("+4915112345678", "+49*********78"),
    ])
    func keepsCountryCodeAndLastTwoDigits(number: String, masked: String) throws {
        #expect(try PhoneNumber(number).masked == masked)
    }

    @Test func masksNumbersInsideText() {
        let text = "scoring +436501234567 failed, retry for +14155550123; order 12345678 and +12 stay"
        #expect(PhoneNumberMask.maskNumbers(in: text) == "scoring +43********67 failed, retry for +1********23; order 12345678 and +12 stay")
    }

    @Test func masksWholeTextThatIsNotANumber() {
        #expect(PhoneNumberMask.mask("0650 123") == "********")
    }
}
