import Foundation
import Kafka
import KafkaTestSupport
import PostgresTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The worker killed, restarted, replaced and stopped: no event lost, none emitted twice, few paid twice.
@Suite("risk-worker run: crashes and shutdown", .serialized)
struct CrashRecoveryTests {
    /// Checks that the committed outputs hold each of `count` events exactly once.
    static func expectExactlyOnce(_ outputs: [KafkaRecord], prefix: String, count: Int) throws {
        var seen: [String: Int] = [:]
        for record in outputs { seen[try record.scored.externalId, default: 0] += 1 }
        let doubled = seen.filter { $0.value > 1 }
        #expect(doubled.isEmpty, "emitted more than once: \(doubled.keys.sorted().prefix(10))")
        let missing = (0..<count).map { "\(prefix)-\($0)" }.filter { seen[$0] == nil }
        #expect(missing.isEmpty, "never emitted: \(missing.prefix(10))")
        #expect(outputs.count == count)
    }

    @Test func sigkillMidStreamLosesNothingAndDoublesNothing() async throws {
        try await WorkerTestbed.with(partitions: 6, latency: .milliseconds(5)) { testbed in
            let count = 4_000
            let inFlight = 64
            try await testbed.publish((0..<count).map { TestEvent.valid("kill-\($0)", phone: TestEvent.phone($0)) })
            let environment = try testbed.environment(["MAX_IN_FLIGHT": String(inFlight), "KAFKA_GROUP_INSTANCE_ID": "kill-test"])
            let kills = 3
            for round in 1...kills {
                let worker = try testbed.startWorker(environment, name: "kill-\(round)")
                defer { worker.stop() }
                let before = try testbed.committed(testbed.output).count
                // Kill once this run has emitted something of its own, well before the end.
                try await testbed.waitForCommitted(worker: worker) { outputs, _ in outputs.count >= before + 300 }
                try await worker.kill9()
            }
            let worker = try testbed.startWorker(environment, name: "kill-final")
            defer { worker.stop() }
            let (outputs, letters) = try await testbed.waitForCommitted(timeout: .seconds(120), worker: worker) { outputs, _ in
                Set(outputs.compactMap { try? $0.scored.externalId }).count >= count
            }
            #expect(letters.isEmpty)
            try Self.expectExactlyOnce(outputs, prefix: "kill", count: count)
            let paid = testbed.sandbox.stats.totals.phoneRisk
            #expect(paid >= count)
            #expect(paid <= count + kills * inFlight, "paid \(paid) phone risk calls for \(count) events and \(kills) kills")
            worker.send(SIGTERM)
            #expect(try await worker.waitForExit() == 0)
        }
    }

    @Test func twoWorkersOnPostgresOneKilledTheOtherTakesOver() async throws {
        let postgres = try await PostgresServer.shared()
        let database = try await postgres.createDatabase(prefix: "workers")
        try await WorkerTestbed.with(partitions: 6, latency: .milliseconds(5)) { testbed in
            let count = 3_000
            let inFlight = 64
            let shared = ["IDEMPOTENCY_STORE": postgres.url(database: database), "MAX_IN_FLIGHT": String(inFlight)]
            let first = try testbed.startWorker(try testbed.environment(shared.merging(["KAFKA_TRANSACTIONAL_ID": "\(testbed.group)-one"]) { $1 }), name: "one")
            defer { first.stop() }
            let second = try testbed.startWorker(try testbed.environment(shared.merging(["KAFKA_TRANSACTIONAL_ID": "\(testbed.group)-two"]) { $1 }), name: "two")
            defer { second.stop() }
            try await testbed.publish((0..<count).map { TestEvent.valid("pair-\($0)", phone: TestEvent.phone($0)) })
            try await testbed.waitForCommitted(worker: first) { outputs, _ in outputs.count >= 800 }
            try await first.kill9()
            let (outputs, _) = try await testbed.waitForCommitted(timeout: .seconds(120), worker: second) { outputs, _ in
                Set(outputs.compactMap { try? $0.scored.externalId }).count >= count
            }
            try Self.expectExactlyOnce(outputs, prefix: "pair", count: count)
            let paid = testbed.sandbox.stats.totals.phoneRisk
            #expect(paid <= count + inFlight, "paid \(paid) phone risk calls for \(count) events and one kill")
            #expect(second.log.contains("partitions assigned"))
        }
    }

    @Test func sigtermDrainsCommitsAndExitsZero() async throws {
        try await WorkerTestbed.with(partitions: 4, latency: .milliseconds(20)) { testbed in
            let count = 2_000
            try await testbed.publish((0..<count).map { TestEvent.valid("term-\($0)", phone: TestEvent.phone($0)) })
            let environment = try testbed.environment(["MAX_IN_FLIGHT": "128"])
            let worker = try testbed.startWorker(environment, name: "term")
            defer { worker.stop() }
            try await testbed.waitForCommitted(worker: worker) { outputs, _ in outputs.count >= 200 }
            worker.send(SIGTERM)
            #expect(try await worker.waitForExit(timeout: .seconds(30)) == 0)
            #expect(worker.log.contains("worker stopped"))

            // Everything consumed was committed with its output: the group's offsets match the outputs exactly.
            let outputs = try testbed.committed(testbed.output)
            let consumer = try KafkaConsumer(configuration: testbed.broker.consumerConfiguration(groupID: testbed.group))
            defer { Task { await consumer.close() } }
            let committed = try await consumer.committed((0..<testbed.partitions).map { TopicPartition(topic: testbed.input, partition: $0) })
            let consumed = committed.map { max(0, $0.offset) }.reduce(0, +)
            #expect(Int(consumed) == outputs.count)
            #expect(outputs.count < count, "the worker finished everything before SIGTERM; the test proves nothing")

            let restarted = try testbed.startWorker(environment, name: "term-restart")
            defer { restarted.stop() }
            let (all, _) = try await testbed.waitForCommitted(worker: restarted) { outputs, _ in outputs.count >= count }
            try Self.expectExactlyOnce(all, prefix: "term", count: count)
            #expect(testbed.sandbox.stats.totals.phoneRisk == count)
        }
    }
}
