import AsyncHTTPClient
import ClockTestSupport
import Foundation
import ScoringAPI
import Testing
@testable import ScoringSimulator

/// Outages over real HTTP against the sandbox on port 0: 503, dropped connections, held requests.
@Suite struct OutageTests {
    @Test func unavailableAnswers503WithRetryAfterUntilCleared() async throws {
        try await LiveSandbox.run { live in
            let set = try await live.send("POST", "/_sim/outage", #"{"kind": "unavailable", "retryAfter": 3}"#)
            #expect(set.status == 200)
            #expect(set.body?["phoneRisk"]?["kind"] == "unavailable")
            #expect(set.body?["numberScoring"]?["retryAfter"] == 3)
            let phoneRisk = try await live.phoneRisk()
            #expect(phoneRisk.status == 503)
            #expect(phoneRisk.retryAfter == "3")
            #expect(phoneRisk.body?["error"]?.stringValue?.contains("outage") == true)
            let numberScoring = try await live.numberScoring(["436501234567"])
            #expect(numberScoring.status == 503)
            #expect(numberScoring.retryAfter == "3")
            // /auth and /_sim/* are never affected
            let auth = try await live.send(
                "POST", "/auth", headers: ["Api-Key": "key", "Customer-Id": "c", "Content-Type": "application/x-www-form-urlencoded"])
            #expect(auth.status == 200)
            let stats = live.sandbox.stats
            #expect(stats.phoneRiskRefused.unavailable == 1)
            #expect(stats.numberScoringRefused.unavailable == 1)
            #expect(stats.totals.phoneRisk == 1)
            #expect(stats.totals.numberScoringRequests == 1)
            let served = try await live.send("GET", "/_sim/stats")
            #expect(served.body?["phoneRiskRefused"]?["unavailable"] == 1)

            let cleared = try await live.send("DELETE", "/_sim/outage")
            #expect(cleared.body == [:])
            #expect(try await live.phoneRisk().status == 200)
            #expect(try await live.numberScoring(["436501234567"]).status == 200)
        }
    }

    @Test func outageOnOneProviderLeavesTheOtherServing() async throws {
        try await LiveSandbox.run { live in
            _ = try await live.send("POST", "/_sim/outage", #"{"kind": "unavailable", "provider": "number-scoring"}"#)
            #expect(try await live.phoneRisk().status == 200)
            let down = try await live.numberScoring(["436501234567"])
            #expect(down.status == 503)
            #expect(down.retryAfter == "\(FlowControl.defaultRetryAfter)")
            _ = try await live.send("POST", "/_sim/outage", #"{"kind": "unavailable", "provider": "phone-risk"}"#)
            #expect(try await live.phoneRisk().status == 503)
            // {"provider": …} without a kind clears that provider only
            _ = try await live.send("POST", "/_sim/outage", #"{"provider": "number-scoring"}"#)
            #expect(try await live.numberScoring(["436501234567"]).status == 200)
            #expect(try await live.phoneRisk().status == 503)
            _ = try await live.send("DELETE", "/_sim/outage?provider=phone-risk")
            #expect(try await live.phoneRisk().status == 200)
        }
    }

    @Test func dropClosesTheConnectionWithoutAnAnswer() async throws {
        try await LiveSandbox.run { live in
            live.sandbox.setOutage(SandboxOutage(.drop))
            await #expect(throws: HTTPClientError.remoteConnectionClosed) { try await live.phoneRisk() }
            await #expect(throws: HTTPClientError.remoteConnectionClosed) {
                try await live.numberScoring(["436501234567"])
            }
            // on a plain socket: not one byte comes back before the connection ends
            let request = LiveSandbox.rawRequest(
                "/phone-service/phoneRiskScore", headers: ["Authorization": "Bearer tok"], body: LiveSandbox.phoneRiskBody)
            #expect(try await live.raw(request).isEmpty)
            #expect(live.sandbox.stats.phoneRiskRefused.dropped == 2)
            #expect(live.sandbox.stats.numberScoringRefused.dropped == 1)

            // the same socket request gets a whole answer once the outage is cleared
            live.sandbox.clearOutage()
            let answer = String(decoding: try await live.raw(request), as: UTF8.self)
            #expect(answer.hasPrefix("HTTP/1.1 200"))
        }
    }

    @Test func hangOutlastsTheClientsTimeoutAndClearingReleasesIt() async throws {
        try await LiveSandbox.run { live in
            _ = try await live.send("POST", "/_sim/outage", #"{"kind": "hang"}"#)
            await #expect(throws: HTTPClientError.deadlineExceeded) { try await live.phoneRisk(timeout: .milliseconds(300)) }
            #expect(live.sandbox.stats.phoneRiskRefused.hung == 1)

            // a client that waits longer is answered 503 once the outage is cleared
            let waiting = Task { try await live.numberScoring(["436501234567"], timeout: .seconds(30)) }
            #expect(await eventually { live.sandbox.stats.numberScoringRefused.heldNow == 1 })
            _ = try await live.send("DELETE", "/_sim/outage")
            let released = try await waiting.value
            #expect(released.status == 503)
            #expect(released.body?["error"]?.stringValue?.contains("held") == true)
            #expect(await eventually { live.sandbox.stats.phoneRiskRefused.heldNow == 0 })
            #expect(live.sandbox.stats.numberScoringRefused.hung == 1)
            #expect(try await live.phoneRisk().status == 200)
        }
    }

    @Test func heldRequestsDoNotHoldUpShutdown() async throws {
        let (waiting, held) = try await LiveSandbox.run { live in
            live.sandbox.setOutage(SandboxOutage(.hang))
            let waiting = Task { try await live.phoneRisk(timeout: .seconds(120)) }
            #expect(await eventually { live.sandbox.stats.phoneRiskRefused.heldNow == 1 })
            return (waiting, ContinuousClock.now)
        }
        // The shutdown alone, from the request being held: far from its 120 s timeout (a loaded suite's start is not counted).
        #expect(ContinuousClock.now - held < .seconds(30))
        // the held request ends with the server: answered 503 or cut, never left waiting
        let outcome = try? await waiting.value
        #expect(outcome == nil || outcome?.status == 503)
    }

    @Test func outageClearsItselfAfterItsSecondsOnTheSandboxClock() async throws {
        let clock = ManualClock()
        try await LiveSandbox.run(clock: clock) { live in
            let set = try await live.send("POST", "/_sim/outage", #"{"kind": "unavailable", "seconds": 5}"#)
            #expect(number(set.body?["phoneRisk"]?["secondsLeft"]) == 5)
            #expect(try await live.phoneRisk().retryAfter == "5")
            clock.advance(by: .seconds(2))
            let later = try await live.numberScoring(["436501234567"])
            #expect(later.status == 503)
            #expect(later.retryAfter == "3")
            #expect(number(try await live.send("GET", "/_sim/outage").body?["numberScoring"]?["secondsLeft"]) == 3)
            clock.advance(by: .seconds(3))
            #expect(try await live.phoneRisk().status == 200)
            #expect(try await live.send("GET", "/_sim/outage").body == [:])
        }
    }

    @Test func heldRequestIsReleasedWhenTheOutageEndsByItself() async throws {
        let clock = ManualClock()
        try await LiveSandbox.run(clock: clock) { live in
            live.sandbox.setOutage(SandboxOutage(.hang, provider: .phoneRisk, duration: .seconds(10)))
            let waiting = Task { try await live.phoneRisk(timeout: .seconds(30)) }
            await clock.sleepers(atLeast: 1)
            clock.advance(by: .seconds(10))
            let released = try await waiting.value
            #expect(released.status == 503)
            #expect(released.retryAfter == "1")
            #expect(try await live.phoneRisk().status == 200)
        }
    }

    @Test func heldRequestIsAnswered503AfterSixtySeconds() async throws {
        let clock = ManualClock()
        try await LiveSandbox.run(clock: clock) { live in
            live.sandbox.setOutage(SandboxOutage(.hang, retryAfter: 7))
            let waiting = Task { try await live.numberScoring(["436501234567"], timeout: .seconds(30)) }
            await clock.sleepers(atLeast: 1)
            clock.advance(by: .seconds(59))
            #expect(live.sandbox.stats.numberScoringRefused.heldNow == 1)
            clock.advance(by: .seconds(1))
            let released = try await waiting.value
            #expect(released.status == 503)
            #expect(released.retryAfter == "7")
            #expect(live.sandbox.outages[.numberScoring]?.kind == .hang)
        }
    }

    @Test func outageFlagsAndResetPutTheStartingOutageBack() async throws {
        var configuration = LiveSandbox.configuration
        configuration.outage = SandboxOutage(.unavailable, provider: .phoneRisk, retryAfter: 1)
        try await LiveSandbox.run(configuration) { live in
            #expect(try await live.phoneRisk().status == 503)
            live.sandbox.clearOutage()
            #expect(try await live.phoneRisk().status == 200)
            _ = try await live.send("POST", "/_sim/reset")
            #expect(try await live.phoneRisk().status == 503)
            #expect(live.sandbox.stats.phoneRiskRefused.unavailable == 1)
        }
    }

    @Test func outageRequestsAreCheckedStrictly() async throws {
        try await LiveSandbox.run { live in
            for body in [
                #"{"kind": "down"}"#, #"{"kind": "hang", "provider": "phoneRisk"}"#, #"{"kind": "hang", "seconds": 0}"#,
                #"{"kind": "hang", "seconds": "5"}"#, #"{"kind": "unavailable", "retryAfter": 1.5}"#,
                #"{"kind": "hang", "second": 5}"#, #"{"seconds": 5}"#, "[]", "not json",
            ] {
                let answer = try await live.send("POST", "/_sim/outage", body)
                #expect(answer.status == 400, "\(body)")
                #expect(answer.body?["error"]?.stringValue != nil, "\(body)")
            }
            #expect(try await live.send("DELETE", "/_sim/outage?provider=both").status == 400)
            #expect(live.sandbox.outages.isEmpty)
            let set = try await live.send("POST", "/_sim/outage", #"{"kind": "drop", "provider": "phone-risk", "seconds": 0.5}"#)
            #expect(set.body?["phoneRisk"]?["kind"] == "drop")
            #expect(set.body?["numberScoring"] == nil)
            #expect((0.4...0.5).contains(number(set.body?["phoneRisk"]?["secondsLeft"]) ?? -1))
            #expect(try await live.send("POST", "/_sim/outage", "{}").body == [:])
        }
    }
}
