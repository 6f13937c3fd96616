import ScoringAPI
import ScoringSimulator
import Testing

@Suite struct PhoneRiskClientTests {
    @Test func scoresANormalNumber() async throws {
        try await SandboxFixture.run { fixture in
            let result = try await fixture.phoneRiskClient().score(try riskRequest("+43 650 1234567", externalId: "ext-1"))
            #expect(result.statusCode == 300)
            #expect(!result.isPartial)
            #expect(result.countryISO2 == "AT")
            #expect(result.countryName == "Austria")
            #expect(result.carrierName?.isEmpty == false)
            #expect(result.phoneTypeCode == "2")
            let score = try #require(result.score)
            #expect((0...1000).contains(score))
            let expected: (String, String) =
                switch score {
                case ...300: ("low", "allow")
                case ...600: ("medium-low", "allow")
                case ...800: ("medium-high", "flag")
                default: ("high", "block")
                }
            #expect(result.riskLevel == expected.0)
            #expect(result.recommendation == expected.1)
            #expect(result.data.externalId == "ext-1")
            #expect(result.rawData["externalId"] == .string("ext-1"))
            #expect(result.rawData["riskInsights"]?["a2P"] != nil)
            #expect(result.rawData["risk"]?["score"] == .integer(Int64(score)))
            #expect(fixture.sandbox.stats.phoneRiskByExternalId["ext-1"] == 1)
            #expect(fixture.sandbox.stats.phoneRiskByMsisdn["436501234567"] == 1)
        }
    }

    @Test func everyPhoneRiskFailureKind() async throws {
        let expectations: [(Int, String, ScoringError.Disposition)] = [
            (0, "10012", .accountLevel),
            (1, "500", .permanent),
            (2, "501", .accountLevel),
            (3, "599", .retriable),
            (4, "10019", .retriable),
            (5, "10010", .accountLevel),
            (6, "10020", .accountLevel),
            (7, "11001", .permanent),
            (8, "12001", .permanent),
        ]
        try await SandboxFixture.run { fixture in
            let client = fixture.phoneRiskClient()
            for (digit, code, disposition) in expectations {
                let request = try riskRequest("+436501299992\(digit)")
                let error = await scoringError { () async throws(ScoringError) in try await client.score(request) }
                #expect(error?.code == code, "suffix 99992\(digit)")
                #expect(error?.disposition == disposition, "suffix 99992\(digit)")
                if case .phoneRisk = error?.kind {} else { Issue.record("kind \(String(describing: error?.kind))") }
            }
        }
    }

    @Test func partialAnswerIsASuccessMarkedPartial() async throws {
        try await SandboxFixture.run { fixture in
            let result = try await fixture.phoneRiskClient().score(try riskRequest("+4365012999929"))
            #expect(result.statusCode == 301)
            #expect(result.isPartial)
            #expect(result.score != nil)
        }
    }

    @Test func httpFaults() async throws {
        let expectations = SandboxFixture.httpFaultExpectations
        try await SandboxFixture.run { fixture in
            let client = fixture.phoneRiskClient()
            for (digit, code, disposition, retryAfter) in expectations {
                let request = try riskRequest("+436501299993\(digit)")
                let error = await scoringError { () async throws(ScoringError) in try await client.score(request) }
                #expect(error?.code == code, "suffix 99993\(digit)")
                #expect(error?.disposition == disposition, "suffix 99993\(digit)")
                #expect(error?.retryAfter == retryAfter, "suffix 99993\(digit)")
            }
        }
    }

    @Test func wrongStaticTokenIsAccountLevel401() async throws {
        try await SandboxFixture.run { fixture in
            let error = await scoringError { () async throws(ScoringError) in
                try await fixture.phoneRiskClient(token: "not-the-token").score(try riskRequest("+436501234567"))
            }
            #expect(error?.code == "http-401")
            #expect(error?.disposition == .accountLevel)
            #expect(fixture.sandbox.stats.totals.unauthorized == 1)
        }
    }

    @Test func transientNumberFailsThenSucceeds() async throws {
        try await SandboxFixture.run { fixture in
            let client = fixture.phoneRiskClient()
            let request = try riskRequest("+4365012999912")
            for _ in 0..<2 {
                let error = await scoringError { () async throws(ScoringError) in try await client.score(request) }
                #expect(error?.code == "10019")
                #expect(error?.disposition == .retriable)
            }
            let result = try await client.score(request)
            #expect(result.statusCode == 300)
        }
    }

    @Test func forcedModeAppliesToEveryRequestUntilCleared() async throws {
        try await SandboxFixture.run { fixture in
            let client = fixture.phoneRiskClient()
            fixture.sandbox.setMode(SandboxMode(phoneRisk: 501))
            let first = await scoringError { () async throws(ScoringError) in try await client.score(try riskRequest("+436501234567")) }
            #expect(first?.code == "501")
            #expect(first?.disposition == .accountLevel)
            fixture.sandbox.setMode(SandboxMode(phoneRisk: 10010))
            let second = await scoringError { () async throws(ScoringError) in try await client.score(try riskRequest("+491701234567")) }
            #expect(second?.code == "10010")
            fixture.sandbox.setMode(SandboxMode())
            let result = try await client.score(try riskRequest("+436501234567"))
            #expect(result.statusCode == 300)
        }
    }

    @Test func sameNumberGivesTheSameAnswer() async throws {
        try await SandboxFixture.run { fixture in
            let client = fixture.phoneRiskClient()
            let a = try await client.score(try riskRequest("+385912345678", externalId: "x"))
            let b = try await client.score(try riskRequest("+385912345678", externalId: "x"))
            #expect(a.data.risk == b.data.risk)
            #expect(a.data.carrier == b.data.carrier)
            #expect(a.data.referenceId == b.data.referenceId)
        }
    }
}
