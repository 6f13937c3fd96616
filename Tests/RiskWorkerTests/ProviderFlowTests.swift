import Foundation
import Kafka
import KafkaTestSupport
import ScoringSimulator
import Testing

/// `risk-worker run` against providers in trouble: outages and throttling pause and slow the worker; they never
/// become dead letters.
@Suite("risk-worker run: provider flow control", .serialized)
struct ProviderFlowTests {
    /// Publishes `count` events with ids `prefix-N`, `perSecond` a second, calling `at` with each second's index first.
    static func stream(
        _ testbed: WorkerTestbed, prefix: String, count: Int, perSecond: Int, at: (Int) async throws -> Void = { _ in }
    ) async throws {
        let start = ContinuousClock.now
        var sent = 0
        var second = 0
        while sent < count {
            try await at(second)
            let batch = (sent..<min(count, sent + perSecond)).map { TestEvent.valid("\(prefix)-\($0)", phone: TestEvent.phone($0)) }
            try await testbed.publish(batch)
            sent += batch.count
            second += 1
            // Pacing: the next second's events go at their second, not as a synchronisation.
            try await Task.sleep(until: start + .seconds(second), clock: .continuous)
        }
    }

    /// Checks that every id `prefix-0..<count` was scored exactly once and nothing was dead-lettered.
    static func expectEachScoredOnce(_ testbed: WorkerTestbed, prefix: String, count: Int, worker: WorkerProcess) async throws {
        let (outputs, letters) = try await testbed.waitForCommitted(timeout: .seconds(120), worker: worker) { outputs, _ in
            outputs.count >= count
        }
        #expect(letters.isEmpty, "dead letters: \(letters.prefix(3).map { String(decoding: $0.value ?? [], as: UTF8.self) })")
        let ids = try outputs.map { try $0.scored.externalId }
        #expect(ids.count == count)
        #expect(Set(ids) == Set((0..<count).map { "\(prefix)-\($0)" }))
    }

    @Test(arguments: [SandboxOutage.Kind.unavailable, .drop, .hang])
    func anOutageInTheMiddleOfAStreamPausesTheWorkerAndLosesNothing(kind: SandboxOutage.Kind) async throws {
        try await WorkerTestbed.with(partitions: 4, latency: .milliseconds(5)) { testbed in
            // Production's retry schedule (not the testbed's fast one), and a client timeout short enough that a
            // hanging provider is seen as failing within the outage.
            var environment = try testbed.environment([
                "RETRY_BASE_MS": "200", "RETRY_CAP_MS": "10000", "RETRY_ATTEMPTS": "5", "PROVIDER_TIMEOUT_MS": "1000",
            ])
            let port = try #require(environment["METRICS_PORT"])
            environment["MAX_IN_FLIGHT"] = "64"
            let worker = try testbed.startWorker(environment)
            defer { worker.stop() }
            try await RunCommandTests.waitForHTTP(port: port, path: "/health/ready", status: 200, worker: worker)

            let outage = Duration.seconds(8)
            var sawUnready = false
            try await Self.stream(testbed, prefix: "outage", count: 1200, perSecond: 100) { second in
                if second == 2 {
                    testbed.sandbox.setOutage(SandboxOutage(kind, duration: outage))
                }
                if second >= 5, second <= 9, !sawUnready {
                    sawUnready = await WorkerTestbed.get(port: port, path: "/health/ready")?.status == 503
                }
            }
            #expect(sawUnready, "/health/ready answered 503 during the outage")
            try await Self.expectEachScoredOnce(testbed, prefix: "outage", count: 1200, worker: worker)
            try await RunCommandTests.waitForHTTP(port: port, path: "/health/ready", status: 200, worker: worker)

            let stats = testbed.sandbox.stats
            let refused = [stats.phoneRiskRefused, stats.numberScoringRefused].map { $0.unavailable + $0.dropped + $0.hung }
            // Before a breaker opens, the requests in flight and those of the next second or so fail; then only probes
            // (0.5 s growing): a few dozen a provider, not the 800 a second of the stream.
            let bound = kind == .hang ? 250 : 120
            print("\(kind) outage of \(outage): \(refused) requests refused (phone risk, number scoring)")
            for (provider, count) in zip(["phone risk", "number scoring"], refused) {
                #expect(count < bound, "\(provider): \(count) requests during the \(kind) outage")
            }
            let metrics = try #require(await WorkerTestbed.get(port: port, path: "/metrics"))
            #expect(WorkerTestbed.metric(#"risk_provider_state{provider="phone-risk"}"#, in: metrics.body) == 0)
        }
    }

    @Test func aProviderAllowingFewerRequestsThanTheBacklogNeedsIsFollowedNotHammered() async throws {
        try await WorkerTestbed.with(partitions: 4, latency: .milliseconds(5)) { testbed in
            testbed.sandbox.setAllowance(SandboxAllowance(phoneRiskPerSecond: 250))
            let count = 3000
            try await testbed.publish((0..<count).map { TestEvent.valid("throttle-\($0)", phone: TestEvent.phone($0)) })
            let environment = try testbed.environment(["RETRY_BASE_MS": "200", "RETRY_CAP_MS": "10000", "RETRY_ATTEMPTS": "5"])
            let started = ContinuousClock.now
            let worker = try testbed.startWorker(environment)
            defer { worker.stop() }
            try await Self.expectEachScoredOnce(testbed, prefix: "throttle", count: count, worker: worker)
            let elapsed = ContinuousClock.now - started
            let refusals = testbed.sandbox.stats.phoneRiskRefused.throttled
            print("allowance 250/s, \(count) events: \(refusals) refusals, \(elapsed) from start to the last output")
            #expect(refusals < count / 4, "\(refusals) refusals for \(count) successes")
            // 3,000 at 250 a second is 12 s; joining the group and the first fetch take a few more.
            #expect(elapsed < .seconds(40), "took \(elapsed)")
        }
    }

    @Test func oneNumberFailingAmongHealthyTrafficIsDeadLetteredAndTheBreakerStaysClosed() async throws {
        try await WorkerTestbed.with(partitions: 2) { testbed in
            var environment = try testbed.environment()
            let port = try #require(environment["METRICS_PORT"])
            environment["MAX_IN_FLIGHT"] = "16"
            let worker = try testbed.startWorker(environment)
            defer { worker.stop() }
            // 99993 2: HTTP 500 on both endpoints for this number, on every call.
            var events = (0..<200).map { TestEvent.valid("healthy-\($0)", phone: TestEvent.phone($0)) }
            events.insert(TestEvent.valid("broken", phone: "+4366400" + Fault.http(.internalError).suffix), at: 100)
            try await testbed.publish(events)
            let (outputs, letters) = try await testbed.waitForCommitted(worker: worker) { outputs, letters in
                outputs.count >= 200 && letters.count >= 1
            }
            #expect(outputs.count == 200)
            #expect(letters.count == 1)
            let metrics = try #require(await WorkerTestbed.get(port: port, path: "/metrics"))
            #expect(WorkerTestbed.metric(#"risk_provider_state{provider="phone-risk"}"#, in: metrics.body) == 0)
            #expect(WorkerTestbed.metric(#"risk_provider_state{provider="number-scoring"}"#, in: metrics.body) == 0)
            #expect(!worker.log.contains("circuit open"))
        }
    }
}
