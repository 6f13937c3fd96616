import Foundation
import Kafka
import KafkaTestSupport
import RiskEvents
import RiskPipeline
import Synchronization
import Testing

/// `risk-worker dlq` and `risk-worker replay`, run as child processes against the test broker.
@Suite("risk-worker dlq and replay")
struct DeadLetterCommandTests {
    static let base = Date(timeIntervalSince1970: 1_754_481_600)  // 2025-08-06T12:00:00Z

    /// Topics holding five dead-letter records:
    ///
    /// | offset | externalId | source | code | failed at |
    /// |---|---|---|---|---|
    /// | 0 | evt-a | number-scoring | 7 | 12:00 |
    /// | 1 | evt-b | number-scoring | 7 | 13:00 |
    /// | 2 | evt-c | phone-risk | http-503 | 12:30 |
    /// | 3 | evt-d | validation | invalid-phone-number | 12:45 |
    /// | 4 | (not a dead letter) | | | |
    static func populated() async throws -> CommandFixture {
        let fixture = try await CommandFixture.make()
        func letter(_ source: FailureSource, _ code: String, minutes: Double) -> DeadLetter {
            DeadLetter(source: source, code: code, message: "failed for +436501234567 with \(code)", attempts: 3, failedAt: base.addingTimeInterval(minutes * 60))
        }
        try await fixture.produce([
            fixture.deadLetter(letter(.numberScoring, "7", minutes: 0), externalId: "evt-a", offset: 10),
            fixture.deadLetter(letter(.numberScoring, "7", minutes: 60), externalId: "evt-b", offset: 11),
            fixture.deadLetter(letter(.phoneRisk, "http-503", minutes: 30), externalId: "evt-c", offset: 12, phone: "+4915112345678"),
            fixture.deadLetter(letter(.validation, "invalid-phone-number", minutes: 45), externalId: "evt-d", offset: 13, phone: "+43650"),
            ProducerRecord(topic: fixture.deadLetterTopic, partition: 0, key: nil, value: Array("not a dead letter".utf8)),
        ])
        return fixture
    }

    @Test func statsPrintsCountsBySourceAndCodeAsJSONAndAsATable() async throws {
        let fixture = try await Self.populated()
        let result = try await fixture.run(["dlq", "stats", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["topic"] as? String == fixture.deadLetterTopic)
        #expect(object["total"] as? Int == 4)
        #expect(object["unreadable"] as? Int == 1)
        #expect(object["oldest"] as? String == "2025-08-06T12:00:00.000Z")
        #expect(object["newest"] as? String == "2025-08-06T13:00:00.000Z")
        let groups = try #require(object["groups"] as? [[String: Any]])
        let rows = groups.map { group in
            ["source", "code", "count", "oldest", "newest"].map { key in group[key].map { "\($0)" } ?? "?" }.joined(separator: " ")
        }
        #expect(rows == [
            "validation invalid-phone-number 1 2025-08-06T12:45:00.000Z 2025-08-06T12:45:00.000Z",
            "phone-risk http-503 1 2025-08-06T12:30:00.000Z 2025-08-06T12:30:00.000Z",
            "number-scoring 7 2 2025-08-06T12:00:00.000Z 2025-08-06T13:00:00.000Z",
        ])

        let table = try await fixture.run(["dlq", "stats"])
        #expect(table.status == 0, "\(table.stderr)")
        let lines = table.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 6)
        #expect(lines.first?.split(separator: " ", omittingEmptySubsequences: true) == ["SOURCE", "CODE", "COUNT", "OLDEST", "NEWEST"])
        #expect(lines.contains { $0.split(separator: " ") == ["number-scoring", "7", "2", "2025-08-06T12:00:00.000Z", "2025-08-06T13:00:00.000Z"] })
        #expect(lines.contains { $0.split(separator: " ") == ["total", "4", "2025-08-06T12:00:00.000Z", "2025-08-06T13:00:00.000Z"] })
        #expect(lines.last?.split(separator: " ") == ["unreadable", "1"])

        let filtered = try await fixture.run(["dlq", "stats", "--json", "--code", "7", "--until", "2025-08-06T12:30:00Z"])
        let filteredObject = try #require(try JSONSerialization.jsonObject(with: Data(filtered.stdout.utf8)) as? [String: Any])
        #expect(filteredObject["total"] as? Int == 1)
    }

    @Test func showPrintsOneLinePerDeadLetterWithPhoneNumbersMasked() async throws {
        let fixture = try await Self.populated()
        let result = try await fixture.run(["dlq", "show", "--code", "7"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix("0:0 2025-08-06T12:00:00.000Z number-scoring 7 externalId=evt-a phone=+43********67 attempts=3 replays=0 ") == true)
        #expect(lines.last?.hasPrefix("0:1 2025-08-06T13:00:00.000Z number-scoring 7 externalId=evt-b ") == true)
        #expect(!result.stdout.contains("6501234567"), "no phone number in the clear, not even in the message")
        #expect(result.stdout.contains(#""failed for +43********67 with 7""#))

        let all = try await fixture.run(["dlq", "show"])
        let allLines = all.stdout.split(separator: "\n").map(String.init)
        #expect(allLines.count == 5)
        #expect(allLines.contains { $0.hasPrefix("0:3 2025-08-06T12:45:00.000Z validation invalid-phone-number externalId=- phone=- ") })
        #expect(allLines.last == "0:4 unreadable: dead-letter header risk.error.source: missing")
        #expect(!all.stdout.contains("4915112345678"))

        let json = try await fixture.run(["dlq", "show", "--json", "--limit", "2", "--source", "phone-risk", "--source", "number-scoring"])
        #expect(json.status == 0, "\(json.stderr)")
        let objects = try json.stdout.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        #expect(objects.count == 2)
        #expect(objects.map { $0["externalId"] as? String } == ["evt-a", "evt-b"])
        #expect(objects.first?["phoneNumber"] as? String == "+43********67")
        #expect(objects.first?["originalTopic"] as? String == fixture.inputTopic)
        #expect(objects.first?["originalOffset"] as? Int == 10)
        #expect(objects.first?["partition"] as? Int == 0)
        #expect(objects.first?["offset"] as? Int == 0)
    }

    @Test(arguments: [
        ["replay", "--code", "a b"],
        ["replay", "--code", "http-9xx"],
        ["replay", "--since", "2025-08-06T13:00:00Z", "--until", "2025-08-06T12:00:00Z"],
        ["replay", "--since", "yesterday"],
        ["replay", "--until", "2h", "--since", "1h"],
        ["replay", "--source", "sms"],
        ["replay", "--rate", "fast"],
        ["replay", "--rate", "0/s"],
        ["replay", "--from-offset", "3"],
        ["replay", "--partition", "0", "--from-offset", "5", "--to-offset", "2"],
        ["replay", "--partition", "-1"],
        ["replay", "--code", "--dry-run"],
        ["replay", "--bogus"],
        ["replay", "extra"],
        ["dlq", "show", "--limit", "many"],
        ["dlq", "stats", "--code", "?"],
    ])
    func badArgumentsExitWith2AndOneLine(_ arguments: [String]) async throws {
        let fixture = try await CommandFixture.make()
        let result = try await fixture.run(arguments)
        #expect(result.status == 2, "\(arguments): \(result.stderr)")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(arguments): \(result.stderr)")
        #expect(lines.first?.hasPrefix("risk-worker: ") == true)
        #expect(result.stdout.isEmpty)
    }

    @Test func unknownTopicsAndPartitionsExitWith2() async throws {
        let fixture = try await Self.populated()
        let missing = "no-such-topic-\(UUID().uuidString.prefix(8))"
        let cases: [([String], [String: String])] = [
            (["dlq", "stats"], ["KAFKA_DLQ_TOPIC": missing]),
            (["dlq", "show"], ["KAFKA_DLQ_TOPIC": missing]),
            (["replay"], ["KAFKA_DLQ_TOPIC": missing]),
            (["replay", "--to-topic", missing], [:]),
            (["replay", "--dry-run"], ["KAFKA_INPUT_TOPIC": missing]),
            (["dlq", "show", "--partition", "3"], [:]),
        ]
        for (arguments, environment) in cases {
            let result = try await fixture.run(arguments, environment: environment)
            #expect(result.status == 2, "\(arguments) \(environment): \(result.stderr)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(arguments): \(result.stderr)")
            #expect(lines.first?.hasPrefix("risk-worker: ") == true)
            #expect(lines.first?.contains(arguments.contains("--partition") ? "no partition 3" : "'\(missing)' does not exist") == true)
        }
        // Nothing was sent anywhere.
        #expect(try fixture.records(of: fixture.inputTopic).isEmpty)
    }

    @Test func settingsComeFromFlagsTheEnvironmentOrTheWorkersFileWithoutProviderSettings() async throws {
        let fixture = try await Self.populated()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("risk-worker-\(UUID().uuidString).env")
        try """
            # the worker's file: provider settings are allowed here and not needed
            KAFKA_BROKERS=\(fixture.broker.bootstrapServers)
            KAFKA_DLQ_TOPIC=\(fixture.deadLetterTopic)
            PHONE_RISK_URL=http://127.0.0.1:1
            ERROR_POLICY=number-scoring:7=dead-letter
            """.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }

        let fromFile = try await fixture.run(["dlq", "stats", "--json", "--config", file.path], environment: ["KAFKA_DLQ_TOPIC": "", "KAFKA_BROKERS": ""])
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        #expect(fromFile.stdout.contains(#""total":4"#))

        let fromFlag = try await fixture.run(["dlq", "stats", "--json", "--kafka-dlq-topic", fixture.deadLetterTopic], environment: ["KAFKA_DLQ_TOPIC": "elsewhere"])
        #expect(fromFlag.status == 0, "\(fromFlag.stderr)")
        #expect(fromFlag.stdout.contains(#""total":4"#))

        let badProperty = try await fixture.run(["dlq", "stats", "--kafka-properties", "no.such.property=1"])
        #expect(badProperty.status == 2)
        #expect(badProperty.stderr.split(separator: "\n").count == 1)
        #expect(badProperty.stderr.hasPrefix("risk-worker: KAFKA_PROPERTIES: "))

        let sameTopics = try await fixture.run(["replay", "--dry-run"], environment: ["KAFKA_INPUT_TOPIC": fixture.deadLetterTopic])
        #expect(sameTopics.status == 2)
        #expect(sameTopics.stderr == "risk-worker: KAFKA_INPUT_TOPIC, KAFKA_OUTPUT_TOPIC and KAFKA_DLQ_TOPIC must be three different topics\n")
    }

    @Test func replayRepublishesMatchingDeadLettersAndADryRunSendsNothing() async throws {
        let fixture = try await Self.populated()
        let dryRun = try await fixture.run(["replay", "--code", "7", "--dry-run"])
        #expect(dryRun.status == 0, "\(dryRun.stderr)")
        let dryLines = dryRun.stdout.split(separator: "\n").map(String.init)
        #expect(dryLines.filter { $0.hasPrefix("would send ") }.count == 2)
        #expect(dryLines.first?.hasSuffix("-> \(fixture.inputTopic) (risk.replay.count 1)") == true)
        #expect(dryLines.last?.contains("matched 2, would send 2 (dry run, nothing sent), skipped 0") == true)
        #expect(try fixture.records(of: fixture.inputTopic).isEmpty)

        let replay = try await fixture.run(["replay", "--code", "7", "--rate", "100/s"])
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(replay.stdout.contains("replayed from \(fixture.deadLetterTopic) to \(fixture.inputTopic): matched 2, sent 2, skipped 0"))
        let replayed = try fixture.records(of: fixture.inputTopic)
        #expect(replayed.map { $0.key.map { String(decoding: $0, as: UTF8.self) } } == ["key-evt-a", "key-evt-b"])
        #expect(replayed.allSatisfy { $0.headers.text(DeadLetter.Header.replayCount) == "1" })
        #expect(replayed.allSatisfy { !$0.headers.contains { DeadLetter.Header.writtenSet.contains($0.name) } })

        // Validation failures only by name; everything else was matched but held back or sent.
        let all = try await fixture.run(["replay", "--to-topic", fixture.otherTopic])
        #expect(all.status == 0, "\(all.stderr)")
        #expect(all.stdout.contains("matched 4, sent 3, skipped 1 (1 validation failure: add --source validation to replay them)"))
        let validation = try await fixture.run(["replay", "--to-topic", fixture.otherTopic, "--source", "validation"])
        #expect(validation.stdout.contains("matched 1, sent 1, skipped 0"))
        #expect(try fixture.records(of: fixture.otherTopic).count == 4)
    }
}

/// An input topic, a dead-letter topic and a spare topic on the test broker, and the built `risk-worker`.
struct CommandFixture {
    let broker: TestBroker
    let inputTopic: String
    let deadLetterTopic: String
    let otherTopic: String

    /// What a child process did.
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func make() async throws -> CommandFixture {
        let broker = try await TestBroker.shared()
        return CommandFixture(
            broker: broker,
            inputTopic: try await broker.createTopic(prefix: "cmd-input", partitions: 1),
            deadLetterTopic: try await broker.createTopic(prefix: "cmd-dlq", partitions: 1),
            otherTopic: try await broker.createTopic(prefix: "cmd-other", partitions: 1)
        )
    }

    /// The dead-letter record of an input record at `offset` of the input topic.
    func deadLetter(_ letter: DeadLetter, externalId: String, offset: Int64, phone: String = "+436501234567") -> ProducerRecord {
        let value = #"{"externalId":"\#(externalId)","accountLifecycleEvent":"create","phoneNumber":"\#(phone)"}"#
        let input = KafkaRecord(
            topic: inputTopic, partition: 0, offset: offset, key: Array("key-\(externalId)".utf8), value: Array(value.utf8),
            headers: [KafkaHeader(name: "traceparent", text: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")]
        )
        var record = letter.record(for: input, topic: deadLetterTopic)
        record.partition = 0
        return record
    }

    /// Sends records in order with one producer.
    func produce(_ records: [ProducerRecord]) async throws {
        let producer = try KafkaProducer(configuration: broker.configuration())
        let results = try await producer.send(records)
        await producer.close()
        for result in results { _ = try result.get() }
    }

    /// A topic's committed records (one partition), read directly from the broker.
    func records(of topic: String) throws -> [KafkaRecord] {
        try CommittedLogReader(bootstrapServers: broker.bootstrapServers).read(topic: topic, partition: 0).committed
    }

    /// Runs `risk-worker` with these topics (and `environment` on top) and waits for it to exit.
    func run(_ arguments: [String], environment extra: [String: String] = [:]) async throws -> Outcome {
        var environment = ProcessInfo.processInfo.environment.filter { name, _ in
            !(name.hasPrefix("KAFKA_") || name.hasPrefix("PHONE_RISK_") || name.hasPrefix("NUMBER_SCORING_"))
        }
        environment["KAFKA_BROKERS"] = broker.bootstrapServers
        environment["KAFKA_INPUT_TOPIC"] = inputTopic
        environment["KAFKA_DLQ_TOPIC"] = deadLetterTopic
        environment.merge(extra) { _, new in new }
        return try await ChildProcess.run(try Self.executable(), arguments, environment: environment)
    }

    /// The `risk-worker` executable built next to the test bundle.
    static func executable() throws -> URL {
        try WorkerProcess.binary
    }
}

/// Runs a program to its end with output captured in files (no pipe can fill up), killing it after two minutes.
enum ChildProcess {
    static func run(_ executable: URL, _ arguments: [String], environment: [String: String]) async throws -> CommandFixture.Outcome {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("risk-worker-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let stdoutURL = directory.appendingPathComponent("stdout")
        let stderrURL = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        let stdout = try FileHandle(forWritingTo: stdoutURL)
        let stderr = try FileHandle(forWritingTo: stderrURL)
        defer {
            try? stdout.close()
            try? stderr.close()
        }

        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = stdout
        process.standardError = stderr
        let watchdog = Watchdog()
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { process in
                watchdog.disarm()
                continuation.resume(returning: process.terminationStatus)
            }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
                return
            }
            watchdog.arm(pid: process.processIdentifier)
        }
        return CommandFixture.Outcome(
            status: status,
            stdout: try String(contentsOf: stdoutURL, encoding: .utf8),
            stderr: try String(contentsOf: stderrURL, encoding: .utf8)
        )
    }
}

/// Kills a hung child after two minutes (a safety net, not synchronisation), and never once it has exited.
final class Watchdog: Sendable {
    private let state = Mutex<(pid: Int32?, exited: Bool, task: Task<Void, Never>?)>((nil, false, nil))

    /// Starts the countdown for `pid`, unless the child has exited already.
    func arm(pid: Int32) {
        let task = Task.detached { [self] in
            guard (try? await Task.sleep(for: .seconds(120))) != nil else { return }
            state.withLock { state in
                if !state.exited, let pid = state.pid { kill(pid, SIGKILL) }
            }
        }
        let cancel = state.withLock { state -> Bool in
            state.pid = pid
            state.task = task
            return state.exited
        }
        if cancel { task.cancel() }
    }

    /// The child has exited: its pid is never signalled.
    func disarm() {
        let task = state.withLock { state -> Task<Void, Never>? in
            state.exited = true
            return state.task
        }
        task?.cancel()
    }
}
