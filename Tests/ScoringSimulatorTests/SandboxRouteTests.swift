import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ScoringAPI
import Testing
@testable import ScoringSimulator

@Suite struct SandboxRouteTests {
    static let sandbox = ScoringSandboxConfiguration(port: 0, token: "tok", apiKey: "key")

    private func decode(_ buffer: ByteBuffer) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(buffer.readableBytesView))
    }

    private func post(_ client: some TestClientProtocol, _ uri: String, headers: HTTPFields = [:], _ body: String) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    @Test func authIssuesTokensAndRejectsBadKeys() async throws {
        let sandbox = ScoringSandbox(configuration: Self.sandbox)
        try await sandbox.makeApplication().test(.router) { client in
            let headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            var good = headers
            good.append(contentsOf: fields(["Api-Key": "key", "Customer-Id": "c-1"]))
            let ok = try await post(client, "/auth", headers: good, "grant_type=client_credentials")
            #expect(ok.status == .ok)
            let answer = try decode(ok.body)
            #expect(answer["token_type"] == "Bearer")
            #expect(answer["expires_in"] == 3600)
            let token = try #require(answer["access_token"]?.stringValue)

            var bad = headers
            bad.append(contentsOf: fields(["Api-Key": "nope", "Customer-Id": "c-1"]))
            #expect(try await post(client, "/auth", headers: bad, "").status == .unauthorized)
            var noCustomer = headers
            noCustomer.append(contentsOf: fields(["Api-Key": "key"]))
            #expect(try await post(client, "/auth", headers: noCustomer, "").status == .unauthorized)
            var json = fields(["Api-Key": "key", "Customer-Id": "c-1"])
            json[.contentType] = "application/json"
            let wrongType = try await post(client, "/auth", headers: json, "{}")
            #expect(wrongType.status == .badRequest)
            #expect(try decode(wrongType.body)["error"] == "invalid_request")

            // the issued token is accepted by the phone risk endpoint
            var bearer = fields(["Authorization": "Bearer \(token)"])
            bearer[.contentType] = "application/json"
            let scored = try await post(client, "/phone-service/phoneRiskScore", headers: bearer, #"{"phoneNumber":"+436501234567","accountLifecycleEvent":"create"}"#)
            #expect(scored.status == .ok)
            sandbox.revokeTokens()
            let revoked = try await post(client, "/phone-service/phoneRiskScore", headers: bearer, #"{"phoneNumber":"+436501234567","accountLifecycleEvent":"create"}"#)
            #expect(revoked.status == .unauthorized)
            #expect(sandbox.stats.totals.tokensIssued == 1)
        }
    }

    @Test func phoneRiskAnswerHasTheSeedShape() async throws {
        let sandbox = ScoringSandbox(configuration: Self.sandbox)
        try await sandbox.makeApplication().test(.router) { client in
            let response = try await post(
                client, "/phone-service/phoneRiskScore", headers: fields(["Authorization": "Bearer tok"]),
                #"{"phoneNumber":"+436501234567","accountLifecycleEvent":"create","externalId":"e-9"}"#)
            #expect(response.status == .ok)
            let body = try decode(response.body)
            #expect(body["status"] == true)
            guard case .object(let data) = body["data"] else {
                Issue.record("no data object")
                return
            }
            #expect(Set(data.keys) == ["referenceId", "externalId", "status", "numbering", "riskInsights", "phoneType", "location", "carrier", "blocklisting", "risk"])
            #expect(Set(keys(data["riskInsights"])) == ["status", "category", "a2P", "p2P", "numberType", "ip", "email"])
            #expect(Set(keys(data["location"])) == ["city", "state", "zip", "metroCode", "county", "country", "coordinates", "timeZone"])
            #expect(Set(keys(data["numbering"]?["cleansing"]?["call"])) == ["countryCode", "phoneNumber", "cleansedCode", "minLength", "maxLength"])
            #expect(Set(keys(data["status"])) == ["updatedOn", "code", "description"])
            #expect(data["phoneType"]?["code"]?.stringValue != nil)
            #expect(data["externalId"] == "e-9")
            #expect(data["location"]?["country"]?["iso3"] == "AUT")
            #expect(data["referenceId"]?.stringValue?.count == 32)
            let score = try #require(data["risk"]?["score"]?.integerValue)
            let level = data["risk"]?["level"]?.stringValue
            switch score {
            case ...300: #expect(level == "low")
            case ...600: #expect(level == "medium-low")
            case ...800: #expect(level == "medium-high")
            default: #expect(level == "high")
            }
        }
    }

    @Test func phoneRiskRejectsBrokenBodies() async throws {
        let sandbox = ScoringSandbox(configuration: Self.sandbox)
        try await sandbox.makeApplication().test(.router) { client in
            let auth = fields(["Authorization": "Bearer tok"])
            let cases = [
                #"{"phone":"+436501234567","accountLifecycleEvent":"create"}"#,
                #"{"phoneNumber":"+436501234567","accountLifecycleEvent":"login"}"#,
                #"{"phoneNumber":436501234567,"accountLifecycleEvent":"create"}"#,
                #"{"phoneNumber":"+436501234567"}"#,
                #"{"phoneNumber":"+436501234567","accountLifecycleEvent":"create","deviceId":5}"#,
                "not json",
            ]
            for body in cases {
                let response = try await post(client, "/phone-service/phoneRiskScore", headers: auth, body)
                #expect(response.status == .badRequest, "\(body)")
                #expect(try decode(response.body)["errors"]?[0]?["description"]?.stringValue != nil)
            }
            let missingToken = try await post(client, "/phone-service/phoneRiskScore", #"{"phoneNumber":"+436501234567","accountLifecycleEvent":"create"}"#)
            #expect(missingToken.status == .unauthorized)
            let national = try await post(client, "/phone-service/phoneRiskScore", headers: auth, #"{"phoneNumber":"06501234567","accountLifecycleEvent":"create"}"#)
            #expect(national.status == .ok)
            #expect(try decode(national.body)["data"]?["errors"]?[0]?["code"] == 11001)
            #expect(sandbox.stats.totals.badRequests == cases.count)
        }
    }

    @Test func numberScoringRecordsAndErrors() async throws {
        let sandbox = ScoringSandbox(configuration: Self.sandbox)
        try await sandbox.makeApplication().test(.router) { client in
            let key = fields(["X-API-KEY": "key"])
            let response = try await post(
                client, "/lookup/number-scoring", headers: key,
                #"{"msisdn":["436501234567","628123456789","919812345678","4365012999907","0123"]}"#)
            #expect(response.status == .ok)
            guard case .array(let records) = try decode(response.body) else {
                Issue.record("not an array")
                return
            }
            #expect(records.count == 5)
            #expect(records.first?["msisdn"] == "0123")  // reversed order on purpose
            let byMsisdn = Dictionary(uniqueKeysWithValues: records.compactMap { r in r["msisdn"]?.stringValue.map { ($0, r) } })
            #expect(byMsisdn["0123"]?["response"] == 5)
            #expect(byMsisdn["4365012999907"]?["response"] == 7)
            let austria = try #require(byMsisdn["436501234567"])
            #expect(austria["response"] == 0)
            #expect(Set(keys(austria)) == ["date", "msisdn", "response", "phone", "scoring", "security", "social_presence"])
            #expect(Set(keys(austria["phone"])) == [
                "country_calling_code", "country_name", "current_network_mobile_code", "first_seen", "current_network_name",
                "initial_network_name", "initial_network_mobile_code", "first_ported", "last_ported", "mobile_country_code",
                "ported_times", "type",
            ])
            #expect(austria["phone"]?["mobile_country_code"] == "232")
            #expect(Set(keys(austria["security"])) == ["data_breaches_count", "data_breaches_first_breach", "data_breaches_last_breach", "is_disposable"])
            #expect(Set(keys(austria["social_presence"])) == Set(NumberProfile.platforms))
            for platform in NumberProfile.platforms {
                let has = austria["social_presence"]?[platform]?["has"]?.stringValue
                #expect(["yes", "no", "n/a"].contains(has ?? "missing"))
            }
            #expect(["yes", "no"].contains(austria["social_presence"]?["whatsapp"]?["is_business"]?.stringValue ?? ""))
            #expect(["very_low", "low", "intermediate", "high", "very_high"].contains(austria["scoring"]?["credibility"]?.stringValue ?? ""))
            #expect(byMsisdn["628123456789"]?["phone"]?["country_name"] == "Indonesia")

            #expect(try await post(client, "/lookup/number-scoring", #"{"msisdn":["436501234567"]}"#).status == .unauthorized)
            for body in [#"{"msisdn":"436501234567"}"#, #"{"msisdn":[]}"#, #"{"msisdn":[4365]}"#, "[]", #"{"msisdn":["1"],"callback_url":5}"#] {
                #expect(try await post(client, "/lookup/number-scoring", headers: key, body).status == .badRequest, "\(body)")
            }
        }
    }

    @Test func adminStatsResetAndMode() async throws {
        let sandbox = ScoringSandbox(configuration: Self.sandbox)
        try await sandbox.makeApplication().test(.router) { client in
            let auth = fields(["Authorization": "Bearer tok"])
            for id in ["a", "a", "b"] {
                _ = try await post(client, "/phone-service/phoneRiskScore", headers: auth, #"{"phoneNumber":"+436501234567","accountLifecycleEvent":"create","externalId":"\#(id)"}"#)
            }
            _ = try await post(client, "/lookup/number-scoring", headers: fields(["X-API-KEY": "key"]), #"{"msisdn":["436501234567","436501234567"]}"#)
            let stats = try decode(try await client.execute(uri: "/_sim/stats", method: .get).body)
            #expect(stats["phoneRiskByExternalId"] == ["a": 2, "b": 1])
            #expect(stats["phoneRiskByMsisdn"]?["436501234567"] == 3)
            #expect(stats["numberScoringByMsisdn"]?["436501234567"] == 2)
            #expect(stats["totals"]?["phoneRisk"] == 3)
            #expect(stats["totals"]?["numberScoringRequests"] == 1)

            let mode = try await post(client, "/_sim/mode", #"{"numberScoring": 8}"#)
            #expect(mode.status == .ok)
            let forced = try decode(try await post(client, "/lookup/number-scoring", headers: fields(["X-API-KEY": "key"]), #"{"msisdn":["436501234567"]}"#).body)
            #expect(forced[0]?["response"] == 8)
            #expect(try await post(client, "/_sim/mode", #"{"numberScoring": 12}"#).status == .badRequest)
            _ = try await post(client, "/_sim/mode", "{}")
            #expect(sandbox.stats.mode == SandboxMode())

            #expect(try await post(client, "/_sim/reset", "").status == .ok)
            let cleared = try decode(try await client.execute(uri: "/_sim/stats", method: .get).body)
            #expect(cleared["totals"]?["phoneRisk"] == 0)
            #expect(cleared["phoneRiskByExternalId"] == [:])
        }
    }

    @Test func errorRateOneFailsEveryScoringRequest() async throws {
        var configuration = Self.sandbox
        configuration.errorRate = 1
        let sandbox = ScoringSandbox(configuration: configuration)
        try await sandbox.makeApplication().test(.router) { client in
            let response = try await post(client, "/lookup/number-scoring", headers: fields(["X-API-KEY": "key"]), #"{"msisdn":["436501234567"]}"#)
            #expect(response.status == .internalServerError)
            #expect(sandbox.stats.totals.injectedErrors == 1)
        }
    }

    @Test func latencyDelaysAnswers() async throws {
        var configuration = Self.sandbox
        configuration.latency = .milliseconds(50)
        let sandbox = ScoringSandbox(configuration: configuration)
        try await sandbox.makeApplication().test(.router) { client in
            let start = ContinuousClock.now
            _ = try await post(client, "/lookup/number-scoring", headers: fields(["X-API-KEY": "key"]), #"{"msisdn":["436501234567"]}"#)
            #expect(ContinuousClock.now - start >= .milliseconds(50))
        }
    }

    @Test func liveServerOnPortZeroReportsItsPort() async throws {
        let sandbox = ScoringSandbox(configuration: Self.sandbox)
        let url = try await sandbox.withRunning { baseURL in baseURL }
        #expect(url.hasPrefix("http://127.0.0.1:"))
        #expect(Int(url.split(separator: ":").last ?? "") ?? 0 > 0)
    }
}

/// Header fields from plain names and values.
func fields(_ values: [String: String]) -> HTTPFields {
    var result = HTTPFields()
    for (name, value) in values {
        if let fieldName = HTTPField.Name(name) { result[fieldName] = value }
    }
    return result
}

/// The keys of a JSON object, empty for anything else.
func keys(_ value: JSONValue?) -> [String] {
    if case .object(let members) = value { return Array(members.keys) }
    return []
}
