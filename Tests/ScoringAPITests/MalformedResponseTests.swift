import AsyncHTTPClient
import Foundation
import ScoringAPI
import Testing

@Suite struct MalformedResponseTests {
    /// These tests are about decoding, not timing: a generous deadline, since the whole test run starts at once on
    /// two cores and an exchange may wait seconds for a thread.
    private static let deadline = Duration.seconds(60)

    private func phoneRiskError(_ base: String, _ httpClient: HTTPClient) async -> ScoringError? {
        let client = PhoneRiskClient(
            httpClient: httpClient, baseURL: base, tokens: StaticAccessToken("tiny-token-abc"), requestTimeout: Self.deadline)
        return await scoringError { () async throws(ScoringError) in try await client.score(try riskRequest("+436501234567")) }
    }

    @Test func phoneRiskHTMLTruncatedAndWrongTypes() async throws {
        try await TinyServer.withRunning { baseURL, _ in
            try await withHTTPClient { httpClient in
                let html = await phoneRiskError(baseURL + "/html", httpClient)
                #expect(html?.kind == .decoding(path: "(body)"))
                #expect(html?.code == "decoding")
                #expect(html?.disposition == .permanent)

                let truncated = await phoneRiskError(baseURL + "/truncated", httpClient)
                #expect(truncated?.kind == .decoding(path: "(body)"))

                let wrongScore = await phoneRiskError(baseURL + "/wrongtypes", httpClient)
                #expect(wrongScore?.kind == .decoding(path: "data.risk.score"))
                #expect(wrongScore?.message.contains("data.risk.score") == true)

                let wrongStatus = await phoneRiskError(baseURL + "/wrongtypes-status", httpClient)
                #expect(wrongStatus?.kind == .decoding(path: "status"))

                let missingStatus = await phoneRiskError(baseURL + "/missingstatus", httpClient)
                #expect(missingStatus?.kind == .decoding(path: "data.status.code"))
            }
        }
    }

    @Test func numberScoringHTMLTruncatedWrongTypesAndSingleObject() async throws {
        try await TinyServer.withRunning { baseURL, _ in
            try await withHTTPClient { httpClient in
                func client(_ path: String) -> NumberScoringClient {
                    NumberScoringClient(httpClient: httpClient, baseURL: baseURL + path, apiKey: "k", requestTimeout: Self.deadline)
                }
                let numbers = [try number("+436501234567"), try number("+436501234568")]
                for path in ["/html", "/truncated", "/notarray"] {
                    let error = await scoringError { () async throws(ScoringError) in try await client(path).lookup(numbers) }
                    #expect(error?.kind == .decoding(path: "(body)"), "\(path)")
                }

                let mixed = try await client("/wrongtypes").lookup(numbers)
                #expect((try? mixed.result(for: "436501234567").get())?.fields.phone?.portedTimes == 2)
                // The record's bytes exactly as the provider wrote them, for the output.
                #expect((try? mixed.result(for: "436501234567").get()).map { String(decoding: $0.json, as: UTF8.self) }
                    == #"{"msisdn": "436501234567", "response": 0, "phone": {"ported_times": 2}}"#)
                guard case .failure(let error) = mixed.result(for: "436501234568") else {
                    Issue.record("expected a decoding error for the second record")
                    return
                }
                #expect(error.kind == .decoding(path: "[1].phone.ported_times"))
                #expect(error.message.contains("[1].phone.ported_times"))

                let single = try await client("/single").lookup([try number("+38591234567")])
                let record = try single.result(for: "38591234567").get()
                #expect(record.credibility == "high")
                #expect(record.raw["extra_field"] == [1, 2])
                #expect(String(decoding: record.json, as: UTF8.self).hasSuffix(#""extra_field": [1, 2]}"#))
            }
        }
    }

    @Test func seedExampleServedOverHTTPDecodes() async throws {
        try await TinyServer.withRunning { baseURL, _ in
            try await withHTTPClient { httpClient in
                let client = PhoneRiskClient(
                    httpClient: httpClient, baseURL: baseURL + "/fixture", tokens: StaticAccessToken("tiny-token-abc"),
                    requestTimeout: Self.deadline)
                let result = try await client.score(try riskRequest("+436501234567"))
                #expect(result.score == 301)
                #expect(result.carrierName == "T-Mobile Austria GmbH")
                // `data` exactly as the provider wrote it (indented), for the output.
                let dataText = String(decoding: result.dataJSON, as: UTF8.self)
                #expect(dataText.hasPrefix("{\n") && dataText.hasSuffix("}"))
                #expect(TinyServer.fixtureJSON.contains(dataText))
                #expect(try JSONDecoder().decode(JSONValue.self, from: Data(result.dataJSON)) == result.rawData)
            }
        }
    }
}
