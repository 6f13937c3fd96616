import Foundation
import RiskEvents
import Testing
@testable import DeadLetterTools

@Suite("Dead-letter filter")
struct DeadLetterFilterTests {
    static let now = Date(timeIntervalSince1970: 1_754_484_834)  // 2025-08-06T12:53:54Z

    static func letter(_ source: FailureSource, _ code: String, secondsAgo: TimeInterval = 0) -> DeadLetter {
        DeadLetter(source: source, code: code, message: "m", attempts: 1, failedAt: now.addingTimeInterval(-secondsAgo))
    }

    @Test(arguments: [
        "7", "10019", "11xxx", "http-503", "http-5xx", "http-xxx", "transport", "timeout", "decoding",
        "invalid-phone-number", "invalid-json", "too-large", "missing-field:externalId", "invalid-type:phoneNumber",
    ])
    func acceptsEveryKindOfCode(_ code: String) throws {
        #expect(DeadLetterFilter.isValidCode(code))
        _ = try DeadLetterFilter(codes: [code])
    }

    @Test(arguments: [
        "", "a b", "http-", "http-99", "http-600", "http-5031", "xxx", "x7", "7x7", "missing-field:foo", "invalid-type:",
        "7;drop", "seven", "HTTP-503", "Transport", "1234567890123",
    ])
    func refusesWhatIsNotACode(_ code: String) {
        #expect(!DeadLetterFilter.isValidCode(code))
        #expect(throws: DeadLetterFilter.Problem.self) { try DeadLetterFilter(codes: ["7", code]) }
    }

    @Test func theProblemOfABadCodeIsOneLineNamingTheOption() {
        do {
            _ = try DeadLetterFilter(codes: ["a\nb"])
            Issue.record("a code with a newline was accepted")
        } catch {
            #expect(error.message.hasPrefix("--code: 'a b'"))
            #expect(!error.message.contains("\n"))
        }
    }

    @Test func exactCodesAndPatternsMatchOnlyTheirCodes() throws {
        let filter = try DeadLetterFilter(codes: ["7", "http-5xx", "11xxx"])
        #expect(filter.matches(Self.letter(.numberScoring, "7")))
        #expect(!filter.matches(Self.letter(.numberScoring, "77")))
        #expect(!filter.matches(Self.letter(.numberScoring, "4")))
        #expect(filter.matches(Self.letter(.phoneRisk, "http-503")))
        #expect(filter.matches(Self.letter(.numberScoring, "http-500")))
        #expect(!filter.matches(Self.letter(.phoneRisk, "http-403")))
        #expect(!filter.matches(Self.letter(.phoneRisk, "http-5031")))
        #expect(filter.matches(Self.letter(.phoneRisk, "11003")))
        #expect(!filter.matches(Self.letter(.phoneRisk, "1100")))
        #expect(!filter.matches(Self.letter(.phoneRisk, "12003")))
        #expect(!filter.matches(Self.letter(.phoneRisk, "110a3")))
    }

    @Test func sourcesCodesAndTimesCombine() throws {
        let filter = try DeadLetterFilter(
            codes: ["7"], sources: ["number-scoring"], since: "2h", until: "30m", now: Self.now
        )
        #expect(filter.matches(Self.letter(.numberScoring, "7", secondsAgo: 3600)))
        #expect(filter.matches(Self.letter(.numberScoring, "7", secondsAgo: 7200)), "--since is inclusive")
        #expect(filter.matches(Self.letter(.numberScoring, "7", secondsAgo: 1800)), "--until is inclusive")
        #expect(!filter.matches(Self.letter(.numberScoring, "7", secondsAgo: 7201)))
        #expect(!filter.matches(Self.letter(.numberScoring, "7", secondsAgo: 1799)))
        #expect(!filter.matches(Self.letter(.phoneRisk, "7", secondsAgo: 3600)))
        #expect(!filter.matches(Self.letter(.numberScoring, "5", secondsAgo: 3600)))
        #expect(!filter.includesValidation)
    }

    @Test func anEmptyFilterMatchesEverything() {
        for source in FailureSource.allCases {
            #expect(DeadLetterFilter.all.matches(Self.letter(source, "anything", secondsAgo: 1e9)))
        }
        #expect(DeadLetterFilter.all.contains(partition: 7, offset: 123))
        #expect(!DeadLetterFilter.all.includesValidation)
    }

    @Test func validationIsIncludedOnlyWhenNamed() throws {
        #expect(try DeadLetterFilter(sources: ["validation"], now: Self.now).includesValidation)
        #expect(try DeadLetterFilter(sources: ["phone-risk", "validation"], now: Self.now).includesValidation)
        #expect(try !DeadLetterFilter(codes: ["invalid-phone-number"], sources: [], now: Self.now).includesValidation)
    }

    @Test(arguments: [("90s", 90.0), ("30m", 1800.0), ("2h", 7200.0), ("7d", 604_800.0), ("1w", 604_800.0)])
    func relativeTimesCountBackFromNow(_ text: String, _ seconds: Double) throws {
        #expect(try DeadLetterFilter.time(text, option: "--since", now: Self.now) == Self.now.addingTimeInterval(-seconds))
    }

    @Test func rfc3339TimesAreReadWithTheirOffset() throws {
        let date = try DeadLetterFilter.time("2025-08-06T14:53:54+02:00", option: "--until", now: Self.now)
        #expect(date == Self.now)
        #expect(try DeadLetterFilter.time("2025-08-06T12:53:54.5Z", option: "--until", now: Self.now) == Self.now.addingTimeInterval(0.5))
    }

    @Test(arguments: ["", "2", "h", "-2h", "+2h", "0h", "2y", "2H", "two hours", "2025-08-06", "2025-08-06T12:00:00", "99999999999d"])
    func badTimesAreProblemsNamingTheOption(_ text: String) {
        do {
            _ = try DeadLetterFilter.time(text, option: "--since", now: Self.now)
            Issue.record("'\(text)' was accepted")
        } catch {
            #expect(error.message.hasPrefix("--since: '"))
        }
    }

    @Test func sinceAfterUntilIsAProblem() {
        do {
            _ = try DeadLetterFilter(sources: [], since: "1h", until: "2h", now: Self.now)
            Issue.record("a reversed window was accepted")
        } catch {
            #expect(error.message == "--since (2025-08-06T11:53:54.000Z) is after --until (2025-08-06T10:53:54.000Z)")
        }
    }

    @Test func unknownSourcesAreProblems() {
        #expect(throws: DeadLetterFilter.Problem.self) { try DeadLetterFilter(sources: ["sms"], now: Self.now) }
        #expect(throws: DeadLetterFilter.Problem.self) { try DeadLetterFilter(sources: ["Validation"], now: Self.now) }
    }

    @Test func offsetsNeedAPartitionAndAnOrder() throws {
        #expect(throws: DeadLetterFilter.Problem.self) { try DeadLetterFilter(fromOffset: 3) }
        #expect(throws: DeadLetterFilter.Problem.self) { try DeadLetterFilter(toOffset: 3) }
        #expect(throws: DeadLetterFilter.Problem.self) { try DeadLetterFilter(partition: 0, fromOffset: 5, toOffset: 4) }
        #expect(throws: DeadLetterFilter.Problem.self) { try DeadLetterFilter(partition: -1) }

        let range = try DeadLetterFilter(partition: 1, fromOffset: 3, toOffset: 5)
        #expect(!range.contains(partition: 0, offset: 4))
        #expect(!range.contains(partition: 1, offset: 2))
        #expect(range.contains(partition: 1, offset: 3))
        #expect(range.contains(partition: 1, offset: 5))
        #expect(!range.contains(partition: 1, offset: 6))
        let open = try DeadLetterFilter(partition: 2)
        #expect(open.contains(partition: 2, offset: 0))
        #expect(open.contains(partition: 2, offset: .max))
        #expect(!open.contains(partition: 1, offset: 0))
    }
}
