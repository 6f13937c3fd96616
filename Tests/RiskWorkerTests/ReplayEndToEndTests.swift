import Foundation
import Kafka
import KafkaTestSupport
import RiskEvents
import RiskPipeline
import ScoringSimulator
import Testing

/// Dead letters replayed through the running worker: scored once the provider recovers, and never paid twice.
@Suite("risk-worker replay with the worker", .serialized)
struct ReplayEndToEndTests {
    @Test func codeSevenDeadLettersAreScoredAfterReplayAndASecondReplayCostsNothing() async throws {
        try await WorkerTestbed.with(partitions: 3) { testbed in
            let environment = try testbed.environment()
            let worker = try testbed.startWorker(environment)
            defer { worker.stop() }
            // Every number-scoring record answers 7 (timeout): retried, then dead-lettered.
            testbed.sandbox.setMode(SandboxMode(numberScoring: 7))
            let count = 12
            try await testbed.publish((0..<count).map { TestEvent.valid("replay-\($0)", phone: TestEvent.phone(500 + $0)) })
            // One more that fails validation: a replay by code must leave it alone.
            try await testbed.publish([TestEvent(key: "broken", value: Array("{not json".utf8))])
            let (_, letters) = try await testbed.waitForCommitted(worker: worker) { _, letters in letters.count >= count + 1 }
            #expect(try letters.filter { try DeadLetter.Info(from: $0).deadLetter.code == "7" }.count == count)
            #expect(try testbed.committed(testbed.output).isEmpty)
            let paidBefore = testbed.sandbox.stats
            #expect(paidBefore.totals.phoneRisk == count)

            testbed.sandbox.setMode(SandboxMode())
            let replay = try WorkerProcess(["replay", "--code", "7"], environment: environment, name: "replay")
            #expect(try await replay.waitForExit() == 0)
            #expect(replay.log.contains("matched 12, sent 12, skipped 0"), "\(replay.log)")

            let (outputs, _) = try await testbed.waitForCommitted(worker: worker) { outputs, _ in outputs.count >= count }
            #expect(Set(try outputs.map { try $0.scored.externalId }) == Set((0..<count).map { "replay-\($0)" }))
            for output in outputs { #expect(output.headers.text(DeadLetter.Header.replayCount) == "1") }
            // Phone risk answered the first time and was stored: the replay paid number scoring only.
            let afterFirst = testbed.sandbox.stats
            #expect(afterFirst.totals.phoneRisk == count)
            for index in 0..<count {
                let msisdn = String(TestEvent.phone(500 + index).dropFirst())
                #expect(afterFirst.numberScoringByMsisdn[msisdn] == 4, "three failed attempts, then one after the replay")
            }

            // The same range again: republished, recognised as already scored, nothing paid, nothing emitted.
            let again = try WorkerProcess(["replay", "--code", "7"], environment: environment, name: "replay-again")
            #expect(try await again.waitForExit() == 0)
            let port = try #require(environment["METRICS_PORT"])
            try await RunCommandTests.waitForMetric("risk_duplicates_total", atLeast: Double(count), port: port, worker: worker)
            #expect(testbed.sandbox.stats.totals.phoneRisk == afterFirst.totals.phoneRisk)
            #expect(testbed.sandbox.stats.totals.numberScoringMsisdns == afterFirst.totals.numberScoringMsisdns)
            #expect(try testbed.committed(testbed.output).count == count)
        }
    }
}
