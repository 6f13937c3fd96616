import Foundation
import Kafka
import KafkaTestSupport
import RiskEvents
import RiskPipeline
import ScoringSimulator
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `risk-worker run` as a process against Tansu and the simulator: outputs, dead letters, idempotency, crashes.
@Suite("risk-worker run", .serialized)
struct RunCommandTests {
    @Test func scoresThousandsOfEventsOnceEachInKeyOrder() async throws {
        try await WorkerTestbed.with(partitions: 6) { testbed in
            let count = 3_000
            // Groups of five events share a key, so their outputs must come out in input order.
            let events = (0..<count).map { index in
                TestEvent.valid(
                    "happy-\(index)", phone: TestEvent.phone(index), key: "key-\(index / 5)",
                    headers: [KafkaHeader(name: "traceparent", text: "00-\(String(format: "%032x", index))-00f067aa0ba902b7-01")])
            }
            try await testbed.publish(events)
            let worker = try testbed.startWorker(try testbed.environment())
            defer { worker.stop() }
            let (outputs, letters) = try await testbed.waitForCommitted(worker: worker) { outputs, _ in outputs.count >= count }
            #expect(outputs.count == count)
            #expect(letters.isEmpty)
            let ids = try outputs.map { try $0.scored.externalId }
            #expect(Set(ids) == Set((0..<count).map { "happy-\($0)" }))

            var lastIndexByKey: [String: Int] = [:]
            for record in outputs {
                let key = String(decoding: record.key ?? [], as: UTF8.self)
                let index = try #require(Int(try record.scored.externalId.dropFirst("happy-".count)))
                #expect(key == "key-\(index / 5)")
                if let last = lastIndexByKey[key] { #expect(last < index, "outputs of \(key) out of order") }
                lastIndexByKey[key] = index
                let traceparent = record.headers.text("traceparent")
                #expect(traceparent == "00-\(String(format: "%032x", index))-00f067aa0ba902b7-01")
            }
            let stats = testbed.sandbox.stats
            #expect(stats.totals.phoneRisk == count)
            #expect(stats.totals.numberScoringMsisdns == count)
            try SchemaCheck.validate(outputs.compactMap(\.value), schema: "scored-event.schema.json")

            worker.send(SIGTERM)
            #expect(try await worker.waitForExit() == 0)
        }
    }
}

extension RunCommandTests {
    @Test func deadLettersEveryValidationFailureWithItsOriginalBytes() async throws {
        let examples = SchemaCheck.root.appendingPathComponent("schemas/examples")
        let codes = try JSONDecoder().decode(
            [String: String].self, from: Data(contentsOf: examples.appendingPathComponent("invalid-codes.json")))
        var events: [TestEvent] = []
        var expected: [[UInt8]: String] = [:]
        for (file, code) in codes.sorted(by: { $0.key < $1.key }) {
            let bytes = try [UInt8](Data(contentsOf: examples.appendingPathComponent("invalid/\(file)")))
            events.append(TestEvent(key: file, value: bytes, headers: [KafkaHeader(name: "origin", text: file)]))
            expected[bytes] = code
        }
        let tooLarge = Array(#"{"externalId":"big","accountLifecycleEvent":"create","phoneNumber":"+436641234567","pad":""#.utf8)
            + [UInt8](repeating: UInt8(ascii: "x"), count: 100_000) + Array(#""}"#.utf8)
        events.append(TestEvent(key: "too-large", value: tooLarge))
        expected[tooLarge] = "too-large"
        events.append(TestEvent(key: "null-value", value: nil))
        let valid = try FileManager.default.contentsOfDirectory(atPath: examples.appendingPathComponent("valid").path).filter { $0.hasSuffix(".json") }
        for file in valid {
            events.append(TestEvent(key: file, value: try [UInt8](Data(contentsOf: examples.appendingPathComponent("valid/\(file)")))))
        }
        try await WorkerTestbed.with(partitions: 2) { testbed in
            try await testbed.publish(events)
            let worker = try testbed.startWorker(try testbed.environment())
            defer { worker.stop() }
            let invalidCount = codes.count + 2
            let (_, letters) = try await testbed.waitForCommitted(worker: worker) { outputs, letters in
                letters.count >= invalidCount && outputs.count >= 1
            }
            #expect(letters.count == invalidCount)
            for letter in letters {
                let info = try DeadLetter.Info(from: letter)
                #expect(info.deadLetter.source == .validation)
                #expect(info.original.topicPartition.topic == testbed.input)
                if let value = letter.value, let code = expected[value] {
                    #expect(info.deadLetter.code == code, "\(letter.headers.text("origin") ?? "?")")
                    if let origin = letter.headers.text("origin") { #expect(String(decoding: letter.key ?? [], as: UTF8.self) == origin) }
                } else {
                    #expect(letter.value == nil)
                    #expect(info.deadLetter.code == "invalid-json")
                }
            }
            // Every valid example is scored (some share an externalId: those give one output each).
            let (outputs, _) = try await testbed.waitForCommitted(worker: worker) { outputs, _ in
                let scored = Set(outputs.compactMap { try? $0.scored.externalId })
                return scored.count >= Set(events.compactMap { event -> String? in
                    guard let value = event.value, expected[value] == nil else { return nil }
                    return (try? LifecycleEvent.decode(value))?.externalId
                }).count
            }
            try SchemaCheck.validate(outputs.compactMap(\.value), schema: "scored-event.schema.json")
        }
    }

    /// What each of the simulator's fault numbers must come to with three attempts per call and twelve seconds of
    /// retries (`RETRY_MAX_ELAPSED`); nil attempts: throttling, retried (slowed down, without spending attempts) until
    /// the time runs out.
    static let providerFaults: [(suffix: String, source: FailureSource?, code: String, attempts: Int?)] = [
        ("999901", .numberScoring, "1", 1),
        ("999904", .numberScoring, "4", nil),
        ("999905", .numberScoring, "5", 1),
        ("999906", .numberScoring, "6", 1),
        ("999907", .numberScoring, "7", 3),
        ("999940", .numberScoring, "missing-record", 1),
        ("999921", .phoneRisk, "500", 1),
        ("999923", .phoneRisk, "599", 3),
        ("999924", .phoneRisk, "10019", nil),
        ("999927", .phoneRisk, "11001", 1),
        ("999928", .phoneRisk, "12001", 1),
        ("999929", nil, "partial", 0),
        ("999912", nil, "scored after two failures", 0),
    ]

    /// HTTP faults fail a whole number-scoring request, so they run on their own, after the others.
    static let httpFaults: [(suffix: String, code: String, attempts: Int?)] = [
        ("999931", "http-429", nil),
        ("999932", "http-500", 3),
        ("999933", "http-503", 3),
        ("999934", "http-502", 3),
        ("999935", "decoding", 1),
    ]

    @Test func providerCodesAreRetriedOrDeadLetteredByPolicy() async throws {
        try await WorkerTestbed.with(partitions: 3) { testbed in
            let worker = try testbed.startWorker(try testbed.environment(["RETRY_MAX_ELAPSED": "12s"]))
            defer { worker.stop() }
            let faults = Self.providerFaults
            try await testbed.publish(faults.map { TestEvent.valid("fault-\($0.suffix)", phone: "+4366412\($0.suffix)") })
            let expectedLetters = faults.filter { $0.source != nil }.count
            var (outputs, letters) = try await testbed.waitForCommitted(worker: worker) { outputs, letters in
                outputs.count >= faults.count - expectedLetters && letters.count >= expectedLetters
            }
            #expect(outputs.count == 2)
            #expect(letters.count == expectedLetters)
            let partial = try outputs.first { try $0.scored.externalId == "fault-999929" }
            #expect(try partial?.scored.partial == true)
            #expect(try outputs.contains { try $0.scored.externalId == "fault-999912" && !$0.scored.partial })
            for letter in letters {
                let info = try DeadLetter.Info(from: letter)
                let suffix = String(String(decoding: letter.key ?? [], as: UTF8.self).suffix(6))
                let fault = try #require(faults.first { $0.suffix == suffix })
                #expect(info.deadLetter.source == fault.source, "\(suffix)")
                #expect(info.deadLetter.code == fault.code, "\(suffix): \(info.deadLetter.message)")
                if let attempts = fault.attempts {
                    #expect(info.deadLetter.attempts == attempts, "\(suffix)")
                } else {
                    #expect(info.deadLetter.attempts >= 2, "\(suffix): retried until the time ran out")
                }
            }
            let stats = testbed.sandbox.stats
            #expect(stats.numberScoringByMsisdn["436641299990" + "7"] == 3)
            #expect(stats.phoneRiskByMsisdn["4366412999912"] == 3)

            try await testbed.publish(Self.httpFaults.map { TestEvent.valid("http-\($0.suffix)", phone: "+4366412\($0.suffix)") })
            (outputs, letters) = try await testbed.waitForCommitted(worker: worker) { _, letters in
                letters.count >= expectedLetters + Self.httpFaults.count
            }
            for letter in letters.filter({ String(decoding: $0.key ?? [], as: UTF8.self).hasPrefix("http-") }) {
                let info = try DeadLetter.Info(from: letter)
                let suffix = String(String(decoding: letter.key ?? [], as: UTF8.self).suffix(6))
                let fault = try #require(Self.httpFaults.first { $0.suffix == suffix })
                #expect(info.deadLetter.source == .phoneRisk, "\(suffix)")
                #expect(info.deadLetter.code == fault.code, "\(suffix): \(info.deadLetter.message)")
                if let attempts = fault.attempts {
                    #expect(info.deadLetter.attempts == attempts, "\(suffix)")
                } else {
                    #expect(info.deadLetter.attempts >= 2, "\(suffix): retried until the time ran out")
                }
            }
            #expect(outputs.count == 2)
        }
    }

    @Test func accountLevelErrorsPauseUntilTheProviderRecovers() async throws {
        try await WorkerTestbed.with(partitions: 2) { testbed in
            var environment = try testbed.environment()
            let port = try #require(environment["METRICS_PORT"])
            environment["MAX_IN_FLIGHT"] = "8"
            let worker = try testbed.startWorker(environment)
            defer { worker.stop() }
            try await Self.waitForHTTP(port: port, path: "/health/ready", status: 200, worker: worker)

            for (round, mode) in [SandboxMode(numberScoring: 3), SandboxMode(phoneRisk: 10010)].enumerated() {
                testbed.sandbox.setMode(mode)
                let events = (0..<20).map { TestEvent.valid("pause-\(round)-\($0)", phone: TestEvent.phone(1000 * round + $0)) }
                try await testbed.publish(events)
                try await Self.waitForHTTP(port: port, path: "/health/ready", status: 503, worker: worker)
                let metrics = try #require(await WorkerTestbed.get(port: port, path: "/metrics"))
                #expect(WorkerTestbed.metric("risk_paused", in: metrics.body) == 1)
                #expect(try testbed.committed(testbed.deadLetters).isEmpty)
                #expect(try testbed.committed(testbed.output).count == 20 * round)

                testbed.sandbox.setMode(SandboxMode())
                try await testbed.waitForCommitted(worker: worker) { outputs, _ in outputs.count >= 20 * (round + 1) }
                try await Self.waitForHTTP(port: port, path: "/health/ready", status: 200, worker: worker)
                #expect(try testbed.committed(testbed.deadLetters).isEmpty)
            }
            let metrics = try #require(await WorkerTestbed.get(port: port, path: "/metrics"))
            #expect(WorkerTestbed.metric("risk_paused", in: metrics.body) == 0)
            #expect(try testbed.committed(testbed.output).count == 40)
        }
    }

    @Test func oneExternalIdPublishedThreeTimesIsScoredAndPaidOnce() async throws {
        try await WorkerTestbed.with(partitions: 3) { testbed in
            var environment = try testbed.environment()
            let port = try #require(environment["METRICS_PORT"])
            environment["DELIVERY"] = "exactly-once"
            let worker = try testbed.startWorker(environment)
            defer { worker.stop() }
            // Three keys, so the copies land on different partitions and are in flight together.
            let copies = ["a", "b", "c"].map { TestEvent.valid("twice-and-more", phone: "+436641111111", key: "copy-\($0)") }
            try await testbed.publish(copies)
            try await testbed.waitForCommitted(worker: worker) { outputs, _ in !outputs.isEmpty }
            // A fourth copy after the first output is committed: still nothing more.
            try await testbed.publish([TestEvent.valid("twice-and-more", phone: "+436641111111", key: "copy-d")])
            try await Self.waitForMetric("risk_duplicates_total", atLeast: 3, port: port, worker: worker)
            let outputs = try testbed.committed(testbed.output)
            #expect(outputs.count == 1)
            let stats = testbed.sandbox.stats
            #expect(stats.phoneRiskByExternalId["twice-and-more"] == 1)
            #expect(stats.numberScoringByMsisdn["436641111111"] == 1)
            // Each of the four records was timed in each stage, except that a copy that found the first one's output
            // committed when it claimed was not scored (the others found it emitted while scoring).
            let metrics = try #require(await WorkerTestbed.get(port: port, path: "/metrics"))
            for (stage, records) in [("waiting", 4.0...4), ("claiming", 4...4), ("scoring", 1...4), ("emitting", 4...4)] {
                let series = "risk_event_stage_duration_seconds_%@{stage=\"\(stage)\"}"
                let count = WorkerTestbed.metric(series.replacingOccurrences(of: "%@", with: "count"), in: metrics.body)
                #expect(count.map(records.contains) == true, "\(stage): \(String(describing: count))")
                let seconds = try #require(WorkerTestbed.metric(series.replacingOccurrences(of: "%@", with: "sum"), in: metrics.body))
                #expect(seconds > 0 && seconds < 60, "\(stage): \(seconds) s")
            }
        }
    }

    /// Polls an endpoint of the worker until it answers `status`.
    static func waitForHTTP(port: String, path: String, status: Int, worker: WorkerProcess, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let response = await WorkerTestbed.get(port: port, path: path), response.status == status { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw WorkerProcessError("\(path) never answered \(status)\n\(worker.log.suffix(3000))")
    }

    /// Polls `/metrics` until the sample `name` reaches `value`.
    static func waitForMetric(_ name: String, atLeast value: Double, port: String, worker: WorkerProcess) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let response = await WorkerTestbed.get(port: port, path: "/metrics"),
                let current = WorkerTestbed.metric(name, in: response.body), current >= value
            {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw WorkerProcessError("\(name) never reached \(value)\n\(worker.log.suffix(3000))")
    }
}
