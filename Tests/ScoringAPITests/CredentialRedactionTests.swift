import ClockTestSupport
import ScoringAPI
import ScoringSimulator
import Testing

/// No token, API key or Customer-Id may appear in any error text or description.
@Suite struct CredentialRedactionTests {
    static let secrets = ["SECRET-TOKEN-4f1c9e", "SECRET-KEY-77ab02", "SECRET-CUSTOMER-3d9e51"]

    private func check(_ error: ScoringError?, _ label: String) {
        guard let error else {
            Issue.record("\(label): expected an error")
            return
        }
        for text in [error.description, error.debugDescription, error.message, "\(error)", String(reflecting: error)] {
            for secret in Self.secrets {
                #expect(!text.contains(secret), "\(label) leaks a credential: \(text)")
            }
        }
    }

    @Test func noErrorKindContainsCredentials() async throws {
        let (token, apiKey, customerId) = (Self.secrets[0], Self.secrets[1], Self.secrets[2])
        var kinds: Set<String> = []
        func note(_ error: ScoringError?, _ label: String) {
            check(error, label)
            if let error { kinds.insert("\(error.kind)".components(separatedBy: "(").first ?? "") }
        }
        try await SandboxFixture.run(token: token, apiKey: apiKey, latency: .milliseconds(5)) { fixture in
            // phone risk failures and HTTP errors, with the secret as the bearer token
            let phoneRisk = fixture.phoneRiskClient()
            for text in ["+4365012999931", "+4365012999932", "+4365012999924", "+4365012999921", "+4365012999935"] {
                note(await scoringError { () async throws(ScoringError) in try await phoneRisk.score(try riskRequest(text)) }, text)
            }
            // 401 with a token that embeds the secret
            let wrongToken = fixture.phoneRiskClient(token: token + "-revoked")
            note(await scoringError { () async throws(ScoringError) in try await wrongToken.score(try riskRequest("+436501234567")) }, "401")
            // token endpoint refusing a secret API key and Customer-Id
            let provider = fixture.tokenProvider(apiKey: apiKey + "-wrong", customerId: customerId, clock: ManualClock())
            note(await scoringError { () async throws(ScoringError) in try await provider.token() }, "auth")
            // number scoring with a secret API key
            let wrongKey = fixture.numberScoringClient(apiKey: apiKey + "-wrong")
            note(await scoringError { () async throws(ScoringError) in try await wrongKey.lookup([try number("+436501234567")]) }, "ns-401")
            // decoding (truncated body), coded records, missing records
            let numberScoring = fixture.numberScoringClient()
            note(await scoringError { () async throws(ScoringError) in try await numberScoring.lookup([try number("+4365012999935")]) }, "decoding")
            let answer = try await numberScoring.lookup([try number("+4365012999903"), try number("+4365012999940")])
            if case .failure(let error) = answer.result(for: "4365012999903") { note(error, "code-3") }
            if case .failure(let error) = answer.result(for: "4365012999940") { note(error, "missing") }
            // timeout
            let slow = PhoneRiskClient(
                httpClient: fixture.httpClient, baseURL: fixture.baseURL, tokens: StaticAccessToken(token),
                requestTimeout: .milliseconds(1))
            note(await scoringError { () async throws(ScoringError) in try await slow.score(try riskRequest("+436501234567")) }, "timeout")
            // descriptions of the credential holders
            for text in ["\(StaticAccessToken(token))", "\(provider)", "\(wrongKey)", "\(phoneRisk)",
                "\(TokenResponse(accessToken: token, expiresIn: 3600, tokenType: "Bearer"))"]
            {
                for secret in Self.secrets { #expect(!text.contains(secret), "description leaks: \(text)") }
            }
        }
        // transport: nothing listens on port 9 of localhost
        try await withHTTPClient { httpClient in
            let closed = PhoneRiskClient(httpClient: httpClient, baseURL: "http://127.0.0.1:9", tokens: StaticAccessToken(token))
            note(await scoringError { () async throws(ScoringError) in try await closed.score(try riskRequest("+436501234567")) }, "transport")
            let closedNS = NumberScoringClient(httpClient: httpClient, baseURL: "http://127.0.0.1:9", apiKey: apiKey)
            note(await scoringError { () async throws(ScoringError) in try await closedNS.lookup([try number("+436501234567")]) }, "transport-ns")
        }
        note(await scoringError { () async throws(ScoringError) in try PhoneNumber("12") }, "invalid")
        #expect(kinds.isSuperset(of: ["transport", "timeout", "http", "decoding", "numberScoring", "phoneRisk", "invalidPhoneNumber", "missingRecord"]), "\(kinds)")
    }

    @Test func redactingReplacesSecrets() {
        let error = ScoringError.transport("failed with SECRET-TOKEN-4f1c9e inside").redacting(Self.secrets)
        #expect(error.message == "failed with *** inside")
    }
}
