import Foundation
import IdempotencyStore
import Kafka
import KafkaTestSupport
import Logging
import PostgresNIO
import PostgresTestSupport
import Testing

/// Instances sharing one store: claims on externalIds, takeovers after a crash, the number-scoring cache and a store
/// that cannot be reached, with real processes, Tansu, PostgreSQL and the simulator.
@Suite("risk-worker run: a shared store", .serialized)
struct SharedStoreTests {
    /// Two copies of each of `count` events with ids `prefix-i`, under different keys, the first on a partition in
    /// 0..<3 and the second three partitions further (so that with two instances of six partitions each copy goes to
    /// a different instance, by the range and the round-robin assignors alike).
    static func pairs(_ prefix: String, count: Int) -> [TestEvent] {
        (0..<count).flatMap { index -> [TestEvent] in
            let partition = Int32(index % 3)
            var first = TestEvent.valid("\(prefix)-\(index)", phone: TestEvent.phone(index), key: "first-\(index)")
            first.partition = partition
            var second = TestEvent.valid("\(prefix)-\(index)", phone: TestEvent.phone(index), key: "second-\(index)")
            second.partition = partition + 3
            return [first, second]
        }
    }

    /// `events` split into those on `partitions` and the others.
    static func split(_ events: [TestEvent], onto partitions: Set<Int32>) -> (on: [TestEvent], others: [TestEvent]) {
        events.reduce(into: ([TestEvent](), [TestEvent]())) { split, event in
            if let partition = event.partition, partitions.contains(partition) { split.0.append(event) } else { split.1.append(event) }
        }
    }

    /// The environments of two instances on one PostgreSQL database, each with its transactional id and metrics port.
    static func twoInstances(_ testbed: WorkerTestbed, database: String, extra: [String: String]) async throws -> [[String: String]] {
        let postgres = try await PostgresServer.shared()
        let shared = extra.merging(["IDEMPOTENCY_STORE": postgres.url(database: database)]) { $1 }
        return try ["one", "two"].map { name in
            try testbed.environment(shared.merging(["KAFKA_TRANSACTIONAL_ID": "\(testbed.group)-\(name)"]) { $1 })
        }
    }

    /// The PostgreSQL store settings of `url` (TLS off).
    static func settings(_ url: String) throws -> PostgresStoreSettings {
        guard case .postgres(let settings) = try IdempotencyStoreLocation.parse(url + "?sslmode=disable") else {
            throw IdempotencyStoreError.unsupported("expected a postgres location")
        }
        return settings
    }

    @Test func twoInstancesPayOnceAndEmitOncePerExternalId() async throws {
        let postgres = try await PostgresServer.shared()
        let database = try await postgres.createDatabase(prefix: "claims")
        try await WorkerTestbed.with(partitions: 6, latency: .milliseconds(100)) { testbed in
            let count = 300
            let environments = try await Self.twoInstances(testbed, database: database, extra: ["MAX_IN_FLIGHT": "64"])
            let workers = try environments.enumerated().map { try testbed.startWorker($1, name: "claims-\($0)") }
            defer { for worker in workers { worker.stop() } }
            try await testbed.waitForBalancedAssignment(workers)

            try await testbed.publish(Self.pairs("twice", count: count))
            var duplicates = 0.0
            let (outputs, letters) = try await testbed.waitForCommitted(worker: workers[0]) { outputs, _ in
                Set(outputs.compactMap { try? $0.scored.externalId }).count >= count
            }
            // Every second copy is finished without output once the first is committed.
            let deadline = ContinuousClock.now + .seconds(60)
            while duplicates < Double(count), ContinuousClock.now < deadline {
                duplicates = await testbed.metricSum("risk_duplicates_total", over: environments)
                if duplicates < Double(count) { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(duplicates == Double(count))
            #expect(letters.isEmpty)
            try CrashRecoveryTests.expectExactlyOnce(try testbed.committed(testbed.output), prefix: "twice", count: count)
            #expect(outputs.count == count)
            let totals = testbed.sandbox.stats.totals
            #expect(totals.phoneRisk == count, "phone risk paid \(totals.phoneRisk) times for \(count) externalIds")
            #expect(totals.numberScoringMsisdns == count, "number scoring paid \(totals.numberScoringMsisdns) times for \(count) externalIds")
            let waits = await testbed.metricSum("risk_claim_waits_total", over: environments)
            let takeovers = await testbed.metricSum("risk_claim_takeovers_total", over: environments)
            print("two instances: \(waits) claim waits, \(takeovers) takeovers, \(duplicates) duplicates")
            #expect(waits > 0, "the copies met: one instance waited for the other's claim")
            #expect(takeovers == 0)
        }
    }

    @Test func anInstanceKilledHoldingClaimsIsTakenOverAfterTheLease() async throws {
        let postgres = try await PostgresServer.shared()
        let database = try await postgres.createDatabase(prefix: "takeover")
        try await WorkerTestbed.with(partitions: 6, latency: .milliseconds(500)) { testbed in
            let count = 600
            let inFlight = 64
            let environments = try await Self.twoInstances(
                testbed, database: database, extra: ["MAX_IN_FLIGHT": String(inFlight), "CLAIM_LEASE": "5s"])
            let first = try testbed.startWorker(environments[0], name: "takeover-one")
            defer { first.stop() }
            let second = try testbed.startWorker(environments[1], name: "takeover-two")
            defer { second.stop() }
            try await testbed.waitForBalancedAssignment([first, second])

            // Instance one's copies first: killed while it holds the claims of the records in flight (600 records at
            // 64 at a time and 500 ms a call leave it seconds of work); the other copies arrive after the kill.
            let (ones, others) = Self.split(Self.pairs("held", count: count), onto: testbed.assignedPartitions(first))
            #expect(ones.count == count && others.count == count)
            try await testbed.publish(ones)
            try await testbed.waitForCommitted(worker: first) { outputs, _ in outputs.count >= 100 }
            try await first.kill9()
            try await testbed.publish(others)
            let (outputs, letters) = try await testbed.waitForCommitted(timeout: .seconds(120), worker: second) { outputs, _ in
                Set(outputs.compactMap { try? $0.scored.externalId }).count >= count
            }
            #expect(letters.isEmpty)
            try CrashRecoveryTests.expectExactlyOnce(outputs, prefix: "held", count: count)
            // Paid twice at most: what the killed instance had in flight.
            let totals = testbed.sandbox.stats.totals
            #expect(totals.phoneRisk >= count && totals.phoneRisk <= count + inFlight, "phone risk paid \(totals.phoneRisk) times")
            #expect(
                totals.numberScoringMsisdns >= count && totals.numberScoringMsisdns <= count + inFlight,
                "number scoring paid \(totals.numberScoringMsisdns) times")
            let takeovers = await testbed.metricSum("risk_claim_takeovers_total", over: [environments[1]])
            let settled = await testbed.metricSum("risk_claims_settled_total", over: [environments[1]])
            print(
                "takeover: phone risk \(totals.phoneRisk), number scoring \(totals.numberScoringMsisdns), \(takeovers) takeovers, "
                    + "\(settled) settled from the group's offsets")
            #expect(takeovers > 0, "the surviving instance took over expired claims")
        }
    }

    @Test func outputsCommittedButNeverMarkedInTheStoreAreNotProducedAgainByTheOtherInstance() async throws {
        // Instance one commits its outputs but cannot mark them emitted (a trigger refuses its user), as if it died
        // between the two every time. Its claims expire unrenewed; the other instance's copies, published once one's
        // outputs are committed, find the group's offsets past one's records and produce nothing, instead of scoring
        // those externalIds again.
        let postgres = try await PostgresServer.shared()
        let database = try await postgres.createDatabase(prefix: "unmarked")
        let logger = Logger(label: "test")
        let setup = try await PostgresIdempotencyStore.connect(settings: try Self.settings(postgres.url(database: database)))
        try await setup.close()
        let role = "unmarked_\(UUID().uuidString.prefix(8).lowercased())"
        let raw = try await PostgresConnection.connect(configuration: postgres.configuration(database: database), id: 1, logger: logger)
        for statement in [
            "CREATE ROLE \(role) LOGIN SUPERUSER PASSWORD '\(postgres.password)'",
            """
            CREATE FUNCTION refuse_marks() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
                IF NEW.emitted AND NOT OLD.emitted AND current_user = '\(role)' THEN RAISE EXCEPTION 'no marks for this user'; END IF;
                RETURN NEW;
            END $$
            """,
            "CREATE TRIGGER refuse_marks BEFORE UPDATE ON risk_idempotency FOR EACH ROW EXECUTE FUNCTION refuse_marks()",
        ] {
            try await raw.query(PostgresQuery(unsafeSQL: statement), logger: logger)
        }
        try await raw.close()

        try await WorkerTestbed.with(partitions: 6, latency: .milliseconds(50)) { testbed in
            let count = 200
            var environments = try await Self.twoInstances(testbed, database: database, extra: ["MAX_IN_FLIGHT": "64", "CLAIM_LEASE": "2s"])
            environments[0]["IDEMPOTENCY_STORE"] = postgres.url(database: database).replacingOccurrences(
                of: "//\(postgres.username):", with: "//\(role):")
            let workers = try environments.enumerated().map { try testbed.startWorker($1, name: "unmarked-\($0)") }
            defer { for worker in workers { worker.stop() } }
            try await testbed.waitForBalancedAssignment(workers)

            // First the copies on instance one's partitions, all committed (and none marked); then the other copies.
            let (first, second) = Self.split(Self.pairs("unmarked", count: count), onto: testbed.assignedPartitions(workers[0]))
            #expect(first.count == count && second.count == count)
            try await testbed.publish(first)
            try await testbed.waitForCommitted(worker: workers[0]) { outputs, _ in outputs.count >= count }
            try await testbed.publish(second)
            // Every second copy finished without output: its claim was instance one's, and its record is committed.
            let deadline = ContinuousClock.now + .seconds(90)
            var duplicates = 0.0
            while duplicates < Double(count), ContinuousClock.now < deadline {
                duplicates = await testbed.metricSum("risk_duplicates_total", over: [environments[1]])
                if duplicates < Double(count) { try await Task.sleep(for: .milliseconds(100)) }
            }
            let outputs = try testbed.committed(testbed.output)
            try CrashRecoveryTests.expectExactlyOnce(outputs, prefix: "unmarked", count: count)
            #expect(duplicates == Double(count))
            let settled = await testbed.metricSum("risk_claims_settled_total", over: [environments[1]])
            let takeovers = await testbed.metricSum("risk_claim_takeovers_total", over: environments)
            print("unmarked: \(settled) claims settled from the group's offsets, \(takeovers) takeovers")
            #expect(settled == Double(count), "instance two met the claims of every record instance one had committed")
            #expect(takeovers == 0)
            #expect(workers[0].log.contains("could not mark scored events as emitted"))
            #expect(testbed.sandbox.stats.totals.phoneRisk == count, "each externalId paid once")
        }
    }

    @Test func numbersSeenAgainWithinTheCacheTTLAreNotPaidAgain() async throws {
        try await WorkerTestbed.with(partitions: 6, latency: .milliseconds(5)) { testbed in
            let numbers = 100
            let events = (0..<numbers * 3).map { index in
                TestEvent.valid("cached-\(index)", phone: TestEvent.phone(index % numbers))
            }
            let environment = try testbed.environment(["NUMBER_SCORING_CACHE_TTL": "1h"])
            let worker = try testbed.startWorker(environment, name: "cache")
            defer { worker.stop() }
            try await testbed.publish(events)
            let (outputs, letters) = try await testbed.waitForCommitted(worker: worker) { outputs, _ in outputs.count >= events.count }
            #expect(letters.isEmpty)
            try CrashRecoveryTests.expectExactlyOnce(outputs, prefix: "cached", count: events.count)
            let totals = testbed.sandbox.stats.totals
            #expect(totals.numberScoringMsisdns == numbers)
            #expect(totals.phoneRisk == events.count)
            let scored = try outputs.map { try $0.scored }
            // Each output carries its own number's record; all but the one fetched per number say they came from the cache.
            for value in scored {
                #expect("+" + value.numberScoring.msisdn == value.phoneNumber, "\(value.externalId)")
                #expect((value.numberScoringCached == true) == (value.numberScoringFetchedAt != nil), "\(value.externalId)")
            }
            #expect(scored.filter { $0.numberScoringCached == true }.count == events.count - numbers)
            #expect(await testbed.metricSum(#"risk_number_scoring_cache_total{result="hit"}"#, over: [environment]) == Double(events.count - numbers))
            #expect(await testbed.metricSum(#"risk_number_scoring_cache_total{result="miss"}"#, over: [environment]) == Double(numbers))
        }
    }

    @Test func withoutTheCacheEveryEventPaysItsLookup() async throws {
        try await WorkerTestbed.with(partitions: 3, latency: .milliseconds(5)) { testbed in
            let numbers = 20
            let worker = try testbed.startWorker(try testbed.environment(), name: "no-cache")
            defer { worker.stop() }
            // The same numbers in three rounds, each after the last is scored: every round pays its lookups again.
            for round in 0..<3 {
                try await testbed.publish((0..<numbers).map { TestEvent.valid("uncached-\(round)-\($0)", phone: TestEvent.phone($0)) })
                try await testbed.waitForCommitted(worker: worker) { outputs, _ in outputs.count >= (round + 1) * numbers }
            }
            let outputs = try testbed.committed(testbed.output)
            #expect(outputs.count == 3 * numbers)
            #expect(testbed.sandbox.stats.totals.numberScoringMsisdns == 3 * numbers)
            #expect(try outputs.allSatisfy { try $0.scored.numberScoringCached == nil && $0.scored.numberScoringFetchedAt == nil })
        }
    }

    @Test func whileTheStoreCannotBeReachedNoProviderIsCalled() async throws {
        let postgres = try await PostgresServer.shared()
        let database = try await postgres.createDatabase(prefix: "outage")
        let logger = Logger(label: "test")
        let admin = try await PostgresConnection.connect(configuration: postgres.configuration(), id: 1, logger: logger)
        defer { Task { try? await admin.close() } }
        try await WorkerTestbed.with(partitions: 3, latency: .milliseconds(5)) { testbed in
            let count = 40
            let environment = try testbed.environment(["IDEMPOTENCY_STORE": postgres.url(database: database), "MAX_IN_FLIGHT": "16"])
            let worker = try testbed.startWorker(environment, name: "outage")
            defer { worker.stop() }
            try await testbed.waitForBalancedAssignment([worker])

            // The store goes away: its connections are ended and new ones refused.
            try await admin.query(PostgresQuery(unsafeSQL: "ALTER DATABASE \(database) WITH ALLOW_CONNECTIONS false"), logger: logger)
            try await admin.query(
                PostgresQuery(unsafeSQL: "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(database)'"), logger: logger)
            try await testbed.publish((0..<count).map { TestEvent.valid("outage-\($0)", phone: TestEvent.phone($0)) })
            // Every slot fills with events waiting for their claims (PostgreSQL's client holds each query until it can
            // connect again; the worker logs the failed connections).
            let deadline = ContinuousClock.now + .seconds(60)
            // The failed connection may be logged after the last slot fills: both are polled for.
            var inFlight = 0.0
            var connectionFailureLogged = false
            while inFlight < 16 || !connectionFailureLogged, ContinuousClock.now < deadline {
                inFlight = await testbed.metricSum("risk_in_flight", over: [environment])
                connectionFailureLogged = worker.log.contains("Connection creation failed")
                if inFlight < 16 || !connectionFailureLogged { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(inFlight == 16)
            #expect(connectionFailureLogged)
            let during = testbed.sandbox.stats.totals
            #expect(during.phoneRisk == 0 && during.numberScoringRequests == 0, "no paid call without a claim")

            try await admin.query(PostgresQuery(unsafeSQL: "ALTER DATABASE \(database) WITH ALLOW_CONNECTIONS true"), logger: logger)
            let (outputs, letters) = try await testbed.waitForCommitted(worker: worker) { outputs, _ in outputs.count >= count }
            #expect(letters.isEmpty)
            try CrashRecoveryTests.expectExactlyOnce(outputs, prefix: "outage", count: count)
            #expect(testbed.sandbox.stats.totals.phoneRisk == count)
        }
    }
}
