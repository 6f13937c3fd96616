import ClockTestSupport
import ScoringAPI
import Testing
@testable import ScoringSimulator

/// Allowances over real HTTP against the sandbox on port 0, on a clock the test moves.
@Suite struct AllowanceTests {
    @Test func phoneRiskBeyondItsAllowanceIs429WithRetryAfter() async throws {
        let clock = ManualClock()
        try await LiveSandbox.run(clock: clock) { live in
            let set = try await live.send("POST", "/_sim/allowance", #"{"phoneRiskPerSecond": 2}"#)
            #expect(set.body == ["numberScoringPerSecond": 0, "phoneRiskPerSecond": 2])
            #expect(try await live.phoneRisk().status == 200)
            #expect(try await live.phoneRisk().status == 200)
            let refused = try await live.phoneRisk()
            #expect(refused.status == 429)
            #expect(refused.retryAfter == "1")
            #expect(refused.body?["error"]?.stringValue?.contains("2 phone risk requests a second") == true)
            // half a second brings one request back
            clock.advance(by: .milliseconds(500))
            #expect(try await live.phoneRisk().status == 200)
            #expect(try await live.phoneRisk().status == 429)
            clock.advance(by: .seconds(1))
            #expect(try await live.phoneRisk().status == 200)
            #expect(try await live.phoneRisk().status == 200)
            // number scoring has no allowance here
            #expect(try await live.numberScoring(Array(repeating: "436501234567", count: 100)).status == 200)

            let stats = live.sandbox.stats
            #expect(stats.phoneRiskRefused.throttled == 2)
            #expect(stats.totals.phoneRisk == 7)
            #expect(stats.phoneRiskByMsisdn["436501234567"] == 5)
            #expect(stats.numberScoringRefused.throttled == 0)
        }
    }

    @Test func numberScoringBeyondItsAllowanceAnswersCode4PerNumber() async throws {
        let clock = ManualClock()
        var configuration = LiveSandbox.configuration
        configuration.allowance = SandboxAllowance(numberScoringPerSecond: 3)
        try await LiveSandbox.run(configuration, clock: clock) { live in
            let batch = ["436501234567", "628123456789", "919812345678", "436507654321", "0123"]
            let answer = try await live.numberScoring(batch)
            #expect(answer.status == 200)
            let records = try #require(answer.body.flatMap(Self.byMsisdn))
            #expect(records.count == 5)
            // the first three numbers are answered as usual, the two beyond the allowance answer 4 (throttled)
            for msisdn in batch.prefix(3) { #expect(records[msisdn]?["response"] == 0, "\(msisdn)") }
            for msisdn in batch.suffix(2) {
                #expect(records[msisdn] == NumberScoringAnswer.failure(msisdn: msisdn, response: 4, now: 0).withoutDate)
            }
            let empty = try await live.numberScoring(["436501234567"])
            #expect(empty.body?[0]?["response"] == 4)
            #expect(live.sandbox.stats.numberScoringByMsisdn["436507654321"] == nil)

            clock.advance(by: .seconds(1))
            #expect(try await live.numberScoring(["436507654321"]).body?[0]?["response"] == 0)
            // phone risk has no allowance here
            for _ in 0..<5 { #expect(try await live.phoneRisk().status == 200) }

            let stats = live.sandbox.stats
            #expect(stats.numberScoringRefused.throttled == 2)
            #expect(stats.numberScoringRefused.throttledNumbers == 3)
            #expect(stats.totals.numberScoringMsisdns == 7)
            #expect(stats.phoneRiskRefused.throttled == 0)
            let served = try await live.send("GET", "/_sim/stats")
            #expect(served.body?["numberScoringRefused"]?["throttledNumbers"] == 3)
        }
    }

    @Test func allowanceIsSetClearedAndCheckedStrictly() async throws {
        try await LiveSandbox.run { live in
            #expect(try await live.send("GET", "/_sim/allowance").body == ["numberScoringPerSecond": 0, "phoneRiskPerSecond": 0])
            for body in [
                #"{"phoneRiskPerSecond": -1}"#, #"{"phoneRisk": 5}"#, #"{"numberScoringPerSecond": 2.5}"#,
                #"{"numberScoringPerSecond": "5"}"#, "[1]",
            ] {
                let answer = try await live.send("POST", "/_sim/allowance", body)
                #expect(answer.status == 400, "\(body)")
                #expect(answer.body?["error"]?.stringValue != nil, "\(body)")
            }
            _ = try await live.send("POST", "/_sim/allowance", #"{"phoneRiskPerSecond": 1, "numberScoringPerSecond": 10}"#)
            #expect(live.sandbox.allowance == SandboxAllowance(phoneRiskPerSecond: 1, numberScoringPerSecond: 10))
            // absent is unlimited
            _ = try await live.send("POST", "/_sim/allowance", #"{"numberScoringPerSecond": 10}"#)
            #expect(live.sandbox.allowance == SandboxAllowance(phoneRiskPerSecond: 0, numberScoringPerSecond: 10))
            #expect(try await live.send("DELETE", "/_sim/allowance").body == ["numberScoringPerSecond": 0, "phoneRiskPerSecond": 0])
            #expect(live.sandbox.allowance == SandboxAllowance())
        }
    }

    @Test func resetPutsTheStartingAllowanceBackWithAFullBucket() async throws {
        let clock = ManualClock()
        var configuration = LiveSandbox.configuration
        configuration.allowance = SandboxAllowance(phoneRiskPerSecond: 1)
        try await LiveSandbox.run(configuration, clock: clock) { live in
            #expect(try await live.phoneRisk().status == 200)
            #expect(try await live.phoneRisk().status == 429)
            _ = try await live.send("POST", "/_sim/allowance", "{}")
            #expect(try await live.phoneRisk().status == 200)
            _ = try await live.send("POST", "/_sim/reset")
            #expect(live.sandbox.allowance == SandboxAllowance(phoneRiskPerSecond: 1))
            #expect(try await live.phoneRisk().status == 200)
            #expect(try await live.phoneRisk().status == 429)
        }
    }

    private static func byMsisdn(_ body: JSONValue) -> [String: JSONValue]? {
        guard case .array(let records) = body else { return nil }
        var result: [String: JSONValue] = [:]
        for record in records {
            guard let msisdn = record["msisdn"]?.stringValue else { return nil }
            result[msisdn] = record.withoutDate
        }
        return result
    }
}

extension JSONValue {
    /// The object without its `date` (which changes with time).
    fileprivate var withoutDate: JSONValue {
        guard case .object(var members) = self else { return self }
        members["date"] = nil
        return .object(members)
    }
}
