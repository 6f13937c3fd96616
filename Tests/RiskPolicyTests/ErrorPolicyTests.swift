import RiskEvents
import Testing
@testable import RiskPolicy

@Suite("Error policy")
struct ErrorPolicyTests {
    typealias Action = ErrorPolicy.Action

    /// The defaults of the issue, one row per code.
    static let defaults: [(FailureSource, String, Action)] = [
        (.numberScoring, "4", .retry), (.numberScoring, "7", .retry),
        (.numberScoring, "1", .deadLetter), (.numberScoring, "5", .deadLetter), (.numberScoring, "6", .deadLetter),
        (.numberScoring, "2", .pause), (.numberScoring, "3", .pause), (.numberScoring, "8", .pause),
        (.numberScoring, "9", .deadLetter), (.numberScoring, "44", .deadLetter),
        (.phoneRisk, "10019", .retry), (.phoneRisk, "599", .retry),
        (.phoneRisk, "500", .deadLetter), (.phoneRisk, "501", .pause),
        (.phoneRisk, "10010", .pause), (.phoneRisk, "10012", .pause), (.phoneRisk, "10013", .pause),
        (.phoneRisk, "10015", .pause), (.phoneRisk, "10020", .pause),
        (.phoneRisk, "10011", .deadLetter), (.phoneRisk, "10001", .deadLetter),
        (.phoneRisk, "11000", .deadLetter), (.phoneRisk, "11999", .deadLetter), (.phoneRisk, "12345", .deadLetter),
        (.phoneRisk, "1100", .deadLetter), (.phoneRisk, "13000", .deadLetter),
        // number-scoring's codes mean nothing to phone-risk and the reverse.
        (.phoneRisk, "4", .deadLetter), (.phoneRisk, "2", .deadLetter), (.numberScoring, "501", .deadLetter),
    ]

    static let transportDefaults: [(String, Action)] = [
        ("http-429", .retry), ("http-500", .retry), ("http-502", .retry), ("http-503", .retry), ("http-599", .retry),
        ("http-401", .pause), ("http-403", .pause),
        ("http-400", .deadLetter), ("http-404", .deadLetter), ("http-422", .deadLetter), ("http-499", .deadLetter),
        ("http-302", .deadLetter), ("http-5000", .deadLetter), ("http-5x", .deadLetter),
        ("transport", .retry), ("timeout", .retry), ("decoding", .deadLetter), ("something-else", .deadLetter), ("", .deadLetter),
    ]

    @Test func providerCodesMapToTheDefaultActions() {
        let policy = ErrorPolicy.standard
        for (source, code, action) in Self.defaults {
            #expect(policy.action(source: source, code: code) == action, "\(source):\(code)")
        }
    }

    @Test func httpTransportAndDecodingFailuresMapTheSameForBothProviders() {
        for source in [FailureSource.phoneRisk, .numberScoring] {
            for (code, action) in Self.transportDefaults {
                #expect(ErrorPolicy.standard.action(source: source, code: code) == action, "\(source):\(code)")
            }
        }
    }

    @Test func validationAlwaysDeadLetters() throws {
        let policy = try ErrorPolicy(parsing: "*:*=retry,*:invalid-json=pause")
        for code in ["invalid-json", "missing-field:phoneNumber", "http-503", "transport", "4"] {
            #expect(ErrorPolicy.standard.action(source: .validation, code: code) == .deadLetter)
            #expect(policy.action(source: .validation, code: code) == .deadLetter)
        }
        #expect(throws: ErrorPolicy.ParseError.self) { try ErrorPolicy(parsing: "validation:invalid-json=retry") }
        #expect(throws: ErrorPolicy.ParseError.self) { try ErrorPolicy(overrides: [.init(source: .validation, code: "*", action: .pause)]) }
        #expect(try ErrorPolicy(parsing: "validation:*=dead-letter").overrides.count == 1)
    }

    @Test func theIssuesOverrideExampleApplies() throws {
        let policy = try ErrorPolicy(parsing: "number-scoring:7=dead-letter,phone-risk:http-503=pause,number-scoring:1=retry")
        #expect(policy.action(source: .numberScoring, code: "7") == .deadLetter)
        #expect(policy.action(source: .numberScoring, code: "1") == .retry)
        #expect(policy.action(source: .phoneRisk, code: "http-503") == .pause)
        // Untouched neighbours keep their defaults.
        #expect(policy.action(source: .numberScoring, code: "4") == .retry)
        #expect(policy.action(source: .numberScoring, code: "http-503") == .retry)
        #expect(policy.action(source: .phoneRisk, code: "http-502") == .retry)
        #expect(policy.overrides == [
            .init(source: .numberScoring, code: "7", action: .deadLetter),
            .init(source: .phoneRisk, code: "http-503", action: .pause),
            .init(source: .numberScoring, code: "1", action: .retry),
        ])
        #expect(policy.description == "number-scoring:7=dead-letter,phone-risk:http-503=pause,number-scoring:1=retry")
    }

    @Test func patternsAndWildcardsMatchAndTheMostSpecificOverrideWins() throws {
        let policy = try ErrorPolicy(parsing: """
             *:http-5xx=pause , phone-risk:http-503=dead-letter, phone-risk:11xxx=retry, phone-risk:110xx=pause,
            number-scoring:*=pause, *:transport=dead-letter, number-scoring:transport=retry
            """)
        #expect(policy.action(source: .phoneRisk, code: "http-500") == .pause)
        #expect(policy.action(source: .numberScoring, code: "http-504") == .pause)
        #expect(policy.action(source: .phoneRisk, code: "http-503") == .deadLetter, "exact beats pattern")
        #expect(policy.action(source: .phoneRisk, code: "11999") == .retry)
        #expect(policy.action(source: .phoneRisk, code: "11001") == .pause, "the longer fixed prefix wins")
        #expect(policy.action(source: .phoneRisk, code: "1100a") == .deadLetter, "x stands for digits only")
        #expect(policy.action(source: .phoneRisk, code: "12000") == .deadLetter, "the default pattern still applies")
        #expect(policy.action(source: .numberScoring, code: "4") == .pause, "source:* overrides every default of the source")
        #expect(policy.action(source: .numberScoring, code: "transport") == .retry, "a named source beats *")
        #expect(policy.action(source: .phoneRisk, code: "transport") == .deadLetter)
    }

    @Test func aLaterEqualOverrideWins() throws {
        let policy = try ErrorPolicy(parsing: "number-scoring:4=pause,number-scoring:4=dead-letter")
        #expect(policy.action(source: .numberScoring, code: "4") == .deadLetter)
    }

    @Test func codesWithAnXThatAreNotPatternsMatchExactly() throws {
        let policy = try ErrorPolicy(parsing: "phone-risk:box=retry,phone-risk:http-4xx=pause")
        #expect(policy.action(source: .phoneRisk, code: "box") == .retry)
        #expect(policy.action(source: .phoneRisk, code: "bo1") == .deadLetter)
        #expect(policy.action(source: .phoneRisk, code: "http-418") == .pause)
        #expect(policy.action(source: .phoneRisk, code: "http-429") == .pause, "any override beats every default, even an exact one")
    }

    @Test(arguments: [
        ("number-scoring:7", "expected source:code=action"),
        ("number-scoring:7=later", "unknown action \"later\""),
        ("scoring:7=retry", "unknown source \"scoring\""),
        ("7=retry", "no ':'"),
        ("phone-risk:=retry", "the code is empty"),
        ("phone-risk:http 503=retry", "contains blanks"),
        ("phone-risk:500=retry,,number-scoring:4=pause", "empty item"),
        ("phone-risk:500=Retry", "unknown action \"Retry\""),
    ])
    func badItemsAreNamed(text: String, reason: String) {
        do {
            _ = try ErrorPolicy(parsing: text)
            Issue.record("\(text) was accepted")
        } catch {
            #expect(error.reason.contains(reason), "\(error)")
            #expect(error.description.contains("invalid error policy item"))
            if !text.contains(",,") { #expect(error.item == text) }
        }
    }

    @Test func emptyTextMeansNoOverrides() throws {
        #expect(try ErrorPolicy(parsing: "").overrides.isEmpty)
        #expect(try ErrorPolicy(parsing: "   ").overrides.isEmpty)
        #expect(try ErrorPolicy(parsing: "") == .standard)
    }
}
