import Foundation
import Kafka
import KafkaTestSupport
import RiskEvents
import RiskPipeline
import SampleEvents
import Testing

/// `risk-worker publish`, run as the built executable against the test broker.
@Suite("risk-worker publish")
struct PublishCommandTests {
    static let valid = [
        #"{"externalId":"pub-a","accountLifecycleEvent":"create","phoneNumber":"+436501234567"}"#,
        #"{"externalId":"pub-c","accountLifecycleEvent":"sign-in","phoneNumber":"+44 7700 900123","emailAddress":"a@example.com"}"#,
    ]

    @Test func aBadLineIsReportedByNumberAndCodeAndNothingIsPublished() async throws {
        let broker = try await TestBroker.shared()
        let topic = try await broker.createTopic(prefix: "publish-bad", partitions: 2)
        let file = try Self.temporaryFile([
            Self.valid[0],
            #"{"externalId":"pub-b","accountLifecycleEvent":"create"}"#,
            Self.valid[1],
            "",
            "not json",
        ])
        defer { try? FileManager.default.removeItem(at: file) }

        let rejected = try await Self.publish([file.path, "--topic", topic], broker: broker)
        #expect(rejected.status == 1, "\(rejected)")
        #expect(rejected.stderr.contains("line 2: missing-field:phoneNumber"), "\(rejected.stderr)")
        #expect(rejected.stderr.contains("line 5: invalid-json"), "\(rejected.stderr)")
        #expect(!rejected.stderr.contains("line 1:") && !rejected.stderr.contains("line 3:") && !rejected.stderr.contains("line 4:"))
        #expect(rejected.stderr.contains("nothing published"))
        #expect(try await Self.endOffsets(topic, partitions: 2, broker: broker) == 0, "nothing was published")

        let skipped = try await Self.publish([file.path, "--topic", topic, "--skip-invalid"], broker: broker)
        #expect(skipped.status == 0, "\(skipped)")
        #expect(skipped.stdout == "published 2 to \(topic), invalid 2\n")
        let (records, end) = try await Self.read(topic, partitions: 2, count: 2, broker: broker)
        #expect(end == 2, "the topic holds \(end) records")
        #expect(Set(records.map { String(decoding: $0.key ?? [], as: UTF8.self) }) == ["pub-a", "pub-c"])
        #expect(Set(records.map { String(decoding: $0.value ?? [], as: UTF8.self) }) == Set(Self.valid), "values are the lines as given")
    }

    @Test func linesAreReadFromStdinWithTheInputTopicSetting() async throws {
        let broker = try await TestBroker.shared()
        let topic = try await broker.createTopic(prefix: "publish-stdin", partitions: 1)
        let input = Data((Self.valid.joined(separator: "\r\n") + "\r\n").utf8)
        let result = try await Self.publish(["-"], broker: broker, environment: ["KAFKA_INPUT_TOPIC": topic], stdin: input)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout == "published 2 to \(topic), invalid 0\n")
        let (records, end) = try await Self.read(topic, partitions: 1, count: 2, broker: broker)
        #expect(end == 2, "the topic holds \(end) records")
        #expect(records.map { String(decoding: $0.value ?? [], as: UTF8.self) } == Self.valid, "in order, without the \\r")
    }

    @Test func generatedEventsArePublishedDeterministically() async throws {
        let broker = try await TestBroker.shared()
        let first = try await broker.createTopic(prefix: "publish-gen", partitions: 3)
        let second = try await broker.createTopic(prefix: "publish-gen", partitions: 3)
        for topic in [first, second] {
            let result = try await Self.publish(["--generate", "200", "--seed", "1", "--topic", topic], broker: broker)
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout.hasPrefix("published 200 to \(topic), invalid "), "\(result.stdout)")
            #expect(result.stdout.contains("generated with seed 1"))
        }

        let expected = Dictionary(
            uniqueKeysWithValues: EventGenerator(seed: 1, failureFraction: 0.05).events(0..<200).map { ($0.externalId, $0) })
        let (firstRecords, firstEnd) = try await Self.read(first, partitions: 3, count: 200, broker: broker)
        let (secondRecords, secondEnd) = try await Self.read(second, partitions: 3, count: 200, broker: broker)
        #expect(firstEnd == 200 && secondEnd == 200, "the topics hold \(firstEnd) and \(secondEnd) records")
        var invalid = 0
        for record in firstRecords {
            let key = String(decoding: record.key ?? [], as: UTF8.self)
            guard let event = expected[key] else {
                Issue.record("unexpected key \(key)")
                continue
            }
            #expect(record.value == event.value)
            do throws(ValidationError) {
                let decoded = try LifecycleEvent.decode(value: record.value)
                #expect(!event.outcome.isInvalid, "\(key) was meant to be invalid")
                #expect(decoded.externalId == key)
            } catch {
                invalid += 1
                #expect(event.outcome == .deadLetter(source: .validation, code: error.code, retried: false), "\(key): \(error)")
            }
        }
        #expect(Set(firstRecords.compactMap(\.key)).count == 200, "every event once")
        #expect(invalid == expected.values.filter { $0.outcome.isInvalid }.count)
        #expect(expected.values.contains { $0.outcome != .scored }, "some of 200 events fail on purpose at 5%")
        // The same seed: the same records, each in the same partition (the key decides it).
        func placed(_ records: [KafkaRecord]) -> Set<[UInt8]> {
            Set(records.map { Array("\($0.partition):".utf8) + ($0.key ?? []) + [0] + ($0.value ?? []) })
        }
        #expect(placed(firstRecords) == placed(secondRecords))
    }

    @Test func badOptionsAndSettingsExitWithCode2NamingThem() async throws {
        let broker = try await TestBroker.shared()
        let properties = try await Self.publish(
            ["--generate", "1"], broker: broker, environment: ["KAFKA_PROPERTIES": "no.such.property=1"])
        #expect(properties.status == 2)
        #expect(properties.stderr.hasPrefix("risk-worker: KAFKA_PROPERTIES: "), "\(properties.stderr)")
        #expect(properties.stderr.split(separator: "\n").count == 1, "one line: \(properties.stderr)")

        let fraction = try await Self.publish(["--generate", "1", "--failures", "1.5"], broker: broker)
        #expect(fraction.status == 2)
        #expect(fraction.stderr.contains("--failures"), "\(fraction.stderr)")

        let missing = try await Self.publish(["/no/such/file.jsonl"], broker: broker)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("/no/such/file.jsonl"), "\(missing.stderr)")
    }

    // MARK: - Running the executable

    /// What a run of the executable did.
    struct Run: CustomStringConvertible {
        let status: Int32
        let stdout: String
        let stderr: String
        var description: String { "exit \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }
    }

    /// The built `risk-worker`, next to the test bundle.
    static func executable() throws -> URL {
        try WorkerProcess.binary
    }

    /// Runs `risk-worker publish` with `arguments` against `broker`, waiting (without blocking a thread) for its exit.
    static func publish(
        _ arguments: [String], broker: TestBroker, environment extra: [String: String] = [:], stdin: Data? = nil
    ) async throws -> Run {
        let process = Process()
        process.executableURL = try executable()
        process.arguments = ["publish"] + arguments
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("KAFKA_") }
        environment["KAFKA_BROKERS"] = broker.bootstrapServers
        environment.merge(extra) { _, new in new }
        process.environment = environment
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("publish-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outURL = directory.appendingPathComponent("stdout")
        let errURL = directory.appendingPathComponent("stderr")
        try Data().write(to: outURL)
        try Data().write(to: errURL)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        let input = Pipe()
        process.standardInput = stdin == nil ? FileHandle.nullDevice : input

        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
                return
            }
            if let stdin {
                input.fileHandleForWriting.write(stdin)
                try? input.fileHandleForWriting.close()
            }
        }
        try out.close()
        try err.close()
        return Run(
            status: status,
            stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }

    // MARK: - Kafka

    /// The records of a topic's partitions from the beginning, once `count` have arrived (30 s at most), and the sum
    /// of the partitions' high watermarks as the fetch responses give them: how many records the topic holds.
    static func read(
        _ topic: String, partitions: Int32, count: Int, broker: TestBroker
    ) async throws -> (records: [KafkaRecord], end: Int64) {
        let consumer = try KafkaConsumer(
            configuration: broker.consumerConfiguration(groupID: "publish-read-\(UUID())", ["enable.auto.commit": "false"]))
        let all = (0..<partitions).map { TopicPartition(topic: topic, partition: $0) }
        try consumer.assign(all.map { TopicPartitionOffset($0, offset: KafkaOffset.beginning) })
        let probe = ConsumerProbe(consumer)
        let seen: ConsumerProbe.Seen
        var end: Int64 = 0
        do {
            seen = try await probe.wait("\(count) records of \(topic)") { $0.records.count >= count }
            // Every partition that has records has answered a fetch; an empty one may not have (its end is 0).
            let withRecords = Set(seen.records.map(\.partition))
            for partition in all {
                let high = consumer.cachedWatermarks(partition)?.high ?? 0
                if withRecords.contains(partition.partition) && high == 0 {
                    throw PublishTestError("no high watermark for \(partition) although records were read")
                }
                end += high
            }
        } catch {
            await probe.stop()
            throw error
        }
        await probe.stop()
        return (seen.records, end)
    }

    /// The sum of the partitions' listed end offsets: 0 exactly when nothing was ever published. (Tansu lists the
    /// last batch's base offset plus one, so for a count of records use the end that ``read`` returns.)
    static func endOffsets(_ topic: String, partitions: Int32, broker: TestBroker) async throws -> Int64 {
        let admin = try KafkaAdmin(configuration: broker.configuration())
        defer { admin.close() }
        var total: Int64 = 0
        for partition in 0..<partitions {
            total += try await admin.watermarks(TopicPartition(topic: topic, partition: partition)).high
        }
        return total
    }

    static func temporaryFile(_ lines: [String]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("publish-\(UUID().uuidString).jsonl")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url)
        return url
    }
}

/// A test of the executable that could not run.
struct PublishTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
