import ClockTestSupport
import ScoringAPI
import ScoringSimulator
import Testing

@Suite struct NumberScoringBatcherTests {
    @Test func concurrentLookupsBecomeOneRequest() async throws {
        try await SandboxFixture.run { fixture in
            let batcher = NumberScoringBatcher(
                client: fixture.numberScoringClient(), maxBatchSize: 10, maxLinger: .seconds(3600), clock: ManualClock())
            let numbers = try (0..<10).map { index throws(ScoringError) in try number("+4917012345\(10 + index)") }
            let records = try await withThrowingTaskGroup(of: (String, String).self) { group in
                for phone in numbers {
                    group.addTask { (phone.msisdn, try await batcher.lookup(phone).msisdn) }
                }
                var pairs: [(String, String)] = []
                for try await pair in group { pairs.append(pair) }
                return pairs
            }
            #expect(records.count == 10)
            for (asked, got) in records { #expect(asked == got) }
            #expect(fixture.sandbox.stats.totals.numberScoringRequests == 1)
            #expect(fixture.sandbox.stats.totals.numberScoringMsisdns == 10)
            #expect(await batcher.requestCount == 1)
        }
    }

    @Test func lingerFlushesAPartialBatch() async throws {
        try await SandboxFixture.run { fixture in
            let clock = ManualClock()
            let batcher = NumberScoringBatcher(
                client: fixture.numberScoringClient(), maxBatchSize: 50, maxLinger: .milliseconds(5), clock: clock)
            let numbers = [try number("+436501234567"), try number("+385912345678"), try number("+447700900123")]
            async let results = withThrowingTaskGroup(of: String.self) { group in
                for phone in numbers { group.addTask { try await batcher.lookup(phone).msisdn } }
                var got: [String] = []
                for try await msisdn in group { got.append(msisdn) }
                return got
            }
            while await batcher.pendingCount < 3 || clock.sleeperCount < 1 { await Task.yield() }
            #expect(fixture.sandbox.stats.totals.numberScoringRequests == 0)
            clock.advance(by: .milliseconds(4))
            #expect(await batcher.pendingCount == 3)
            clock.advance(by: .milliseconds(1))
            let got = try await results
            #expect(Set(got) == Set(numbers.map(\.msisdn)))
            #expect(fixture.sandbox.stats.totals.numberScoringRequests == 1)
        }
    }

    @Test(.timeLimit(.minutes(1))) func withoutLingerEachNumberIsSentAtOnce() async throws {
        try await SandboxFixture.run { fixture in
            let clock = ManualClock()
            let batcher = NumberScoringBatcher(client: fixture.numberScoringClient(), maxBatchSize: 50, maxLinger: .zero, clock: clock)
            let numbers = [try number("+436501234567"), try number("+385912345678"), try number("+447700900123")]
            for phone in numbers { #expect(try await batcher.lookup(phone).msisdn == phone.msisdn) }
            // Answered with the clock never advanced and nobody sleeping on it: nothing waited for a linger.
            #expect(clock.sleeperCount == 0)
            #expect(fixture.sandbox.stats.totals.numberScoringRequests == 3)
            #expect(await batcher.requestCount == 3)
        }
    }

    @Test func duplicateMsisdnsAreSentOnceAndAnsweredToAll() async throws {
        try await SandboxFixture.run { fixture in
            let batcher = NumberScoringBatcher(
                client: fixture.numberScoringClient(), maxBatchSize: 2, maxLinger: .seconds(3600), clock: ManualClock())
            let same = try number("+436501234567")
            let other = try number("+385912345678")
            async let a = batcher.lookup(same)
            async let b = batcher.lookup(same)
            async let c = batcher.lookup(same)
            while await batcher.waitingCount < 3 { await Task.yield() }
            #expect(await batcher.pendingCount == 1)
            async let d = batcher.lookup(other)
            let records = try await [a, b, c, d]
            #expect(records.map(\.msisdn) == [same.msisdn, same.msisdn, same.msisdn, other.msisdn])
            let stats = fixture.sandbox.stats
            #expect(stats.numberScoringByMsisdn[same.msisdn] == 1)
            #expect(stats.totals.numberScoringMsisdns == 2)
            #expect(stats.totals.numberScoringRequests == 1)
        }
    }

    @Test func aMissingOrFailedRecordFailsOnlyItsCaller() async throws {
        try await SandboxFixture.run { fixture in
            let batcher = NumberScoringBatcher(
                client: fixture.numberScoringClient(), maxBatchSize: 3, maxLinger: .seconds(3600), clock: ManualClock())
            let good = try number("+436501234567")
            let omitted = try number("+4365012999940")
            let invalid = try number("+4365012999905")
            async let goodResult = capture { () async throws(ScoringError) in try await batcher.lookup(good) }
            async let omittedResult = capture { () async throws(ScoringError) in try await batcher.lookup(omitted) }
            async let invalidResult = capture { () async throws(ScoringError) in try await batcher.lookup(invalid) }
            let (g, o, i) = await (goodResult, omittedResult, invalidResult)
            #expect((try? g.get())?.msisdn == good.msisdn)
            guard case .failure(let missing) = o, case .failure(let coded) = i else {
                Issue.record("expected failures for the omitted and the code-5 number")
                return
            }
            #expect(missing.code == "missing-record")
            #expect(missing.kind == .missingRecord)
            #expect(coded.code == "5")
            #expect(coded.disposition == .permanent)
            #expect(fixture.sandbox.stats.totals.numberScoringRequests == 1)
        }
    }

    @Test func aFailedRequestFailsEveryCallerOfTheBatch() async throws {
        try await SandboxFixture.run { fixture in
            let batcher = NumberScoringBatcher(
                client: fixture.numberScoringClient(), maxBatchSize: 2, maxLinger: .seconds(3600), clock: ManualClock())
            async let a = capture { () async throws(ScoringError) in try await batcher.lookup(try number("+436501234567")) }
            async let b = capture { () async throws(ScoringError) in try await batcher.lookup(try number("+4365012999931")) }
            let (ra, rb) = await (a, b)
            for result in [ra, rb] {
                guard case .failure(let error) = result else {
                    Issue.record("expected HTTP 429")
                    continue
                }
                #expect(error.code == "http-429")
                #expect(error.retryAfter == .seconds(1))
            }
        }
    }
}

/// Runs `body` and returns its outcome as a `Result`.
func capture<T>(_ body: () async throws(ScoringError) -> T) async -> Result<T, ScoringError> {
    do {
        return .success(try await body())
    } catch {
        return .failure(error)
    }
}
