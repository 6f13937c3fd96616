import ClockTestSupport
import ScoringAPI
import ScoringSimulator
import Testing

@Suite struct TokenProviderTests {
    @Test func tokenIsCachedAndUsedForScoring() async throws {
        try await SandboxFixture.run { fixture in
            let provider = fixture.tokenProvider(clock: ManualClock())
            let client = PhoneRiskClient(httpClient: fixture.httpClient, baseURL: fixture.baseURL, tokens: provider)
            for _ in 0..<3 {
                _ = try await client.score(try riskRequest("+436501234567"))
            }
            #expect(fixture.sandbox.stats.totals.auth == 1)
            #expect(fixture.sandbox.stats.totals.phoneRisk == 3)
            #expect(await provider.fetchCount == 1)
        }
    }

    @Test func tokenIsRenewedBeforeExpiry() async throws {
        try await SandboxFixture.run { fixture in
            let clock = ManualClock()
            let provider = fixture.tokenProvider(clock: clock)
            let first = try await provider.token()
            clock.advance(by: .seconds(3500))  // sandbox tokens live 3600 s; renewal margin is 60 s
            #expect(try await provider.token() == first)
            clock.advance(by: .seconds(41))
            let second = try await provider.token()
            #expect(second != first)
            #expect(fixture.sandbox.stats.totals.auth == 2)
        }
    }

    @Test func tokenIsRenewedOnceAfter401() async throws {
        try await SandboxFixture.run { fixture in
            let provider = fixture.tokenProvider(clock: ManualClock())
            let client = PhoneRiskClient(httpClient: fixture.httpClient, baseURL: fixture.baseURL, tokens: provider)
            _ = try await client.score(try riskRequest("+436501234567"))
            fixture.sandbox.revokeTokens()
            let result = try await client.score(try riskRequest("+436501234567"))
            #expect(result.statusCode == 300)
            #expect(fixture.sandbox.stats.totals.auth == 2)
            #expect(fixture.sandbox.stats.totals.unauthorized == 1)
        }
    }

    @Test func renewalIsSingleFlightUnderConcurrency() async throws {
        try await SandboxFixture.run { fixture in
            let provider = fixture.tokenProvider(clock: ManualClock())
            let client = PhoneRiskClient(httpClient: fixture.httpClient, baseURL: fixture.baseURL, tokens: provider)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<20 {
                    group.addTask { _ = try await client.score(try riskRequest("+4365012345\(10 + index)")) }
                }
                try await group.waitForAll()
            }
            #expect(fixture.sandbox.stats.totals.auth == 1)
            fixture.sandbox.revokeTokens()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<20 {
                    group.addTask { _ = try await client.score(try riskRequest("+4365012345\(10 + index)")) }
                }
                try await group.waitForAll()
            }
            #expect(fixture.sandbox.stats.totals.auth == 2)
            #expect(fixture.sandbox.stats.totals.phoneRisk >= 40)
        }
    }

    @Test func persistent401AfterRenewalIsAccountLevel() async throws {
        try await TinyServer.withRunning { baseURL, counter in
            try await withHTTPClient { httpClient in
            let provider = TokenProvider(
                httpClient: httpClient, baseURL: baseURL + "/always401", apiKey: "k", customerId: "c", clock: ManualClock())
            let client = PhoneRiskClient(httpClient: httpClient, baseURL: baseURL + "/always401", tokens: provider)
            let error = await scoringError { () async throws(ScoringError) in try await client.score(try riskRequest("+436501234567")) }
            #expect(error?.code == "http-401")
            #expect(error?.disposition == .accountLevel)
            #expect(counter.count("auth") == 2)
            #expect(counter.count("phoneRisk") == 2)
            }
        }
    }

    @Test func wrongApiKeyAtTokenEndpointIsAccountLevel() async throws {
        try await SandboxFixture.run { fixture in
            let provider = fixture.tokenProvider(apiKey: "wrong-key-3141", clock: ManualClock())
            let error = await scoringError { () async throws(ScoringError) in try await provider.token() }
            #expect(error?.code == "http-401")
            #expect(error?.disposition == .accountLevel)
            #expect(error.map { "\($0)".contains("wrong-key-3141") } == false)
        }
    }
}
