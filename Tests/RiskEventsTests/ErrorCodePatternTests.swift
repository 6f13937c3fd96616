import Testing
import RiskEvents

@Suite("Error code patterns")
struct ErrorCodePatternTests {
    private func matches(_ pattern: ErrorCodePattern, _ code: String) -> Bool { pattern.matches(Array(code.utf8)) }

    @Test func ruleCodesAreExactPatternsOrAny() {
        let any = ErrorCodePattern(ruleCode: "*")
        #expect(matches(any, "7") && matches(any, "transport") && matches(any, ""))
        let http = ErrorCodePattern(ruleCode: "http-5xx")
        #expect(matches(http, "http-503") && !matches(http, "http-5031") && !matches(http, "http-50a") && !matches(http, "http-403"))
        let digits = ErrorCodePattern(ruleCode: "xx")
        #expect(matches(digits, "42") && !matches(digits, "4") && !matches(digits, "4a"))
        let word = ErrorCodePattern(ruleCode: "box")
        #expect(matches(word, "box") && !matches(word, "bo1"), "x after a letter is not a wildcard")
        #expect(matches(ErrorCodePattern(ruleCode: "7"), "7") && !matches(ErrorCodePattern(ruleCode: "7"), "77"))
    }

    @Test func specificityRanksExactThenLongerFixedPartsThenAny() {
        let ranked = ["10019", "box", "http-5xx", "11xxx", "xx", "*"].map { ErrorCodePattern(ruleCode: $0).specificity }
        #expect(ranked == [Int.max, Int.max, 6, 2, 0, -1])
    }

    @Test(arguments: [
        "7", "10019", "11xxx", "http-503", "http-5xx", "http-xxx", "transport", "timeout", "decoding", "missing-record",
        "invalid-phone-number", "invalid-json", "too-large", "missing-field:externalId", "invalid-type:phoneNumber",
    ])
    func deadLetterCodesAreTheCodesTheWorkerWrites(_ code: String) {
        #expect(ErrorCodePattern(deadLetterCode: code) != nil)
    }

    @Test(arguments: ["*", "", "box", "xx", "http-600", "missing-field:foo", "HTTP-503", "1234567890123"])
    func deadLetterCodesRefuseOtherText(_ code: String) {
        #expect(ErrorCodePattern(deadLetterCode: code) == nil)
    }

    @Test func bothReadingsOfACodeTheWorkerWritesMatchAlike() throws {
        for code in ["7", "11xxx", "http-5xx", "http-xxx", "transport", "missing-field:externalId"] {
            let rule = ErrorCodePattern(ruleCode: code)
            let deadLetter = try #require(ErrorCodePattern(deadLetterCode: code))
            #expect(rule == deadLetter, "\(code)")
            for candidate in ["7", "11003", "http-503", "http-418", "transport", "missing-field:externalId", "1100a"] {
                #expect(matches(rule, candidate) == matches(deadLetter, candidate), "\(code) ~ \(candidate)")
            }
        }
    }
}
