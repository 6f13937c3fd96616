import AsyncHTTPClient
import Foundation
import Kafka
import KafkaTestSupport
import NIOCore
import ScoringSimulator

/// Everything a `risk-worker run` test needs: Tansu with fresh input, output and dead-letter topics, the scoring
/// simulator in-process on a free port, and the worker's environment pointing at them.
struct WorkerTestbed: Sendable {
    let broker: TestBroker
    let sandbox: ScoringSandbox
    let sandboxURL: String
    let input: String
    let output: String
    let deadLetters: String
    let partitions: Int32
    let group: String
    let directory: URL

    /// Runs `body` with a testbed whose input topic has `partitions` partitions and whose simulator answers after `latency`.
    static func with(
        partitions: Int32 = 6,
        latency: Duration = .zero,
        _ body: (WorkerTestbed) async throws -> Void
    ) async throws {
        let broker = try await TestBroker.shared()
        let input = try await broker.createTopic(prefix: "events", partitions: partitions)
        let output = try await broker.createTopic(prefix: "scored", partitions: 3)
        let deadLetters = try await broker.createTopic(prefix: "dlq", partitions: 2)
        let sandbox = ScoringSandbox(configuration: .init(host: "127.0.0.1", port: 0, latency: latency))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("risk-worker-test-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await sandbox.withRunning { url in
            let testbed = WorkerTestbed(
                broker: broker, sandbox: sandbox, sandboxURL: url, input: input, output: output, deadLetters: deadLetters,
                partitions: partitions, group: "risk-worker-\(UUID().uuidString.prefix(8))", directory: directory)
            try await body(testbed)
        }
    }

    /// The worker's environment: these topics and simulator, an SQLite store in the test's folder, fast retries,
    /// and the short group timeouts Tansu needs; `extra` overrides.
    func environment(_ extra: [String: String] = [:]) throws -> [String: String] {
        var environment = [
            "KAFKA_BROKERS": broker.bootstrapServers,
            "KAFKA_GROUP_ID": group,
            "KAFKA_INPUT_TOPIC": input,
            "KAFKA_OUTPUT_TOPIC": output,
            "KAFKA_DLQ_TOPIC": deadLetters,
            "KAFKA_PROPERTIES": "session.timeout.ms=6000,max.poll.interval.ms=6000,heartbeat.interval.ms=500,topic.metadata.refresh.interval.ms=1000",
            "KAFKA_TRANSACTIONAL_ID": "\(group)-a",
            "PHONE_RISK_URL": sandboxURL,
            "PHONE_RISK_TOKEN": sandbox.configuration.token,
            "NUMBER_SCORING_URL": sandboxURL,
            "NUMBER_SCORING_API_KEY": sandbox.configuration.apiKey,
            "IDEMPOTENCY_STORE": "sqlite://" + directory.appendingPathComponent("store.sqlite").path,
            "METRICS_PORT": String(try FreePort.find()),
            "RETRY_BASE_MS": "1",
            "RETRY_CAP_MS": "20",
            "RETRY_ATTEMPTS": "3",
            "DRAIN_TIMEOUT_MS": "10000",
        ]
        environment.merge(extra) { _, new in new }
        return environment
    }

    /// Starts `risk-worker run` with `environment`.
    func startWorker(_ environment: [String: String], name: String = "worker") throws -> WorkerProcess {
        try WorkerProcess(["run", "--log-level", "info"], environment: environment, name: name)
    }

    /// Publishes records to the input topic and waits for their delivery.
    func publish(_ records: [TestEvent]) async throws {
        let producer = try KafkaProducer(configuration: broker.configuration())
        defer { Task { await producer.close() } }
        let results = try await producer.send(records.map {
            ProducerRecord(topic: input, partition: $0.partition, key: $0.key.map { Array($0.utf8) }, value: $0.value, headers: $0.headers)
        })
        for result in results { _ = try result.get() }
    }

    /// The committed records of every partition of `topic` (aborted transactions dropped), by partition then offset.
    func committed(_ topic: String) throws -> [KafkaRecord] {
        let reader = try CommittedLogReader(bootstrapServers: broker.bootstrapServers)
        let count: Int32 = topic == output ? 3 : topic == deadLetters ? 2 : partitions
        return try (0..<count).flatMap { try reader.read(topic: topic, partition: $0).committed }
    }

    /// Polls until every one of `workers` logged an assignment and their latest ones together hold each input
    /// partition once, or throws after `timeout`.
    func waitForBalancedAssignment(_ workers: [WorkerProcess], timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            let counts = workers.map { assignedPartitions($0).count }
            if counts.allSatisfy({ $0 > 0 }) && counts.reduce(0, +) == Int(partitions) { return }
            guard ContinuousClock.now < deadline else {
                throw WorkerProcessError("timed out waiting for a balanced assignment: \(counts)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The input partitions `worker` was assigned last, by its log.
    func assignedPartitions(_ worker: WorkerProcess) -> Set<Int32> {
        guard let line = worker.log.split(separator: "\n").last(where: { $0.contains("partitions assigned") && $0.contains(input) }) else {
            return []
        }
        return Set(line.components(separatedBy: input + "[").dropFirst().compactMap { Int32($0.prefix { $0.isNumber }) })
    }

    /// The sum of a Prometheus sample over the workers started with `environments` (0 where absent or not answering).
    func metricSum(_ name: String, over environments: [[String: String]]) async -> Double {
        var sum = 0.0
        for environment in environments {
            guard let port = environment["METRICS_PORT"], let metrics = await Self.get(port: port, path: "/metrics") else { continue }
            sum += Self.metric(name, in: metrics.body) ?? 0
        }
        return sum
    }

    /// Polls until `done` holds for the committed outputs and dead letters, or throws after `timeout`.
    @discardableResult
    func waitForCommitted(
        timeout: Duration = .seconds(90),
        worker: WorkerProcess? = nil,
        until done: ([KafkaRecord], [KafkaRecord]) -> Bool
    ) async throws -> (outputs: [KafkaRecord], deadLetters: [KafkaRecord]) {
        let deadline = ContinuousClock.now + timeout
        while true {
            let outputs = try committed(output)
            let letters = try committed(deadLetters)
            if done(outputs, letters) { return (outputs, letters) }
            guard ContinuousClock.now < deadline else {
                throw WorkerProcessError(
                    "timed out: \(outputs.count) outputs, \(letters.count) dead letters committed\n\(worker.map { String($0.log.suffix(4000)) } ?? "")")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// GETs a path of the worker's HTTP endpoints; nil while nothing answers.
    static func get(port: String, path: String) async -> (status: Int, body: String)? {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { Task { try? await client.shutdown() } }
        do {
            let response = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"), timeout: .seconds(2))
            let body = try await response.body.collect(upTo: 4 << 20)
            return (Int(response.status.code), String(buffer: body))
        } catch {
            return nil
        }
    }

    /// The value of a Prometheus sample (`name` with its labels exactly as exported), or nil when absent.
    static func metric(_ name: String, in text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }
}

/// An input record for a test.
struct TestEvent: Sendable {
    var key: String?
    var value: [UInt8]?
    var headers: [KafkaHeader] = []
    /// The input partition, or nil to choose it by key.
    var partition: Int32?

    /// A valid event with `externalId`, a phone number and the given lifecycle event, keyed by `key` (default the id).
    static func valid(_ externalId: String, phone: String, event: String = "sign-in", key: String? = nil, headers: [KafkaHeader] = []) -> TestEvent {
        let json = #"{"externalId":"\#(externalId)","accountLifecycleEvent":"\#(event)","phoneNumber":"\#(phone)","accountId":"acct-\#(externalId)"}"#
        return TestEvent(key: key ?? externalId, value: Array(json.utf8), headers: headers)
    }

    /// The number `+43664` followed by `index` in seven digits: unique, and never one of the simulator's fault numbers.
    static func phone(_ index: Int) -> String {
        let digits = String(index)
        return "+43664" + String(repeating: "0", count: max(0, 7 - digits.count)) + digits
    }
}

/// A scored event's members the tests look at.
struct ScoredValue: Decodable {
    let externalId: String
    let phoneNumber: String
    let partial: Bool
    let numberScoring: NumberScoringMembers
    let numberScoringCached: Bool?
    let numberScoringFetchedAt: String?

    /// The members of the number-scoring record the tests look at.
    struct NumberScoringMembers: Decodable {
        let msisdn: String
    }
}

extension KafkaRecord {
    /// The value decoded as a scored event.
    var scored: ScoredValue {
        get throws { try JSONDecoder().decode(ScoredValue.self, from: Data(value ?? [])) }
    }
}
