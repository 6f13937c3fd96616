import Foundation
import Kafka
import KafkaTestSupport
import RiskEvents
import Testing
@testable import DeadLetterTools

@Suite("Dead-letter scan")
struct DeadLetterScanTests {
    @Test func anEmptyTopicIsReadAtOnce() async throws {
        let fixture = try await DeadLetterFixture.make(deadLetterPartitions: 3)
        let scan = try await DeadLetterScan.open(configuration: fixture.configuration, topic: fixture.deadLetterTopic)
        #expect(scan.ranges.map(\.partition) == [0, 1, 2])
        #expect(scan.totalOffsets == 0)
        let entries = try await fixture.readAll(scan)
        #expect(entries.isEmpty)
    }

    @Test func readsEveryRecordOnceUpToTheEndTheTopicHadWhenOpened() async throws {
        let fixture = try await DeadLetterFixture.make(deadLetterPartitions: 2)
        let produced = try await fixture.produce((0..<6).map { index in
            fixture.deadLetter(DeadLetterFixture.letter(.numberScoring, "7", minutesAgo: index), externalId: "evt-\(index)", inputOffset: Int64(index), partition: Int32(index % 2))
        })
        let scan = try await DeadLetterScan.open(configuration: fixture.configuration, topic: fixture.deadLetterTopic)
        #expect(scan.ranges == [
            DeadLetterScan.PartitionRange(partition: 0, start: 0, end: 3),
            DeadLetterScan.PartitionRange(partition: 1, start: 0, end: 3),
        ])
        // Written after the scan opened: not read.
        try await fixture.produce((6..<9).map { index in
            fixture.deadLetter(DeadLetterFixture.letter(.phoneRisk, "500"), externalId: "late-\(index)", inputOffset: Int64(index), partition: Int32(index % 2))
        })
        let entries = try await fixture.readAll(scan)
        #expect(Set(entries.map { "\($0.partition):\($0.offset)" }) == Set(produced.map { "\($0.partition):\($0.offset)" }))
        #expect(entries.count == 6)
        for entry in entries {
            let info = try #require(entry.info)
            #expect(info.deadLetter.source == .numberScoring)
            #expect(info.deadLetter.code == "7")
            #expect(info.original.topicPartition.topic == fixture.inputTopic)
            #expect(try LifecycleEvent.decode(value: info.value).externalId == "evt-\(info.original.offset)")
        }
        for partition in [Int32(0), 1] {
            let offsets = entries.filter { $0.partition == partition }.map(\.offset)
            #expect(offsets == offsets.sorted(), "offset order within partition \(partition)")
        }
    }

    @Test func recordsThatAreNotDeadLettersAreReportedAsUnreadable() async throws {
        let fixture = try await DeadLetterFixture.make()
        var badCount = fixture.deadLetter(DeadLetterFixture.letter(.numberScoring, "7"), externalId: "x", inputOffset: 1)
        badCount.headers.append(KafkaHeader(name: DeadLetter.Header.replayCount, text: "-1"))
        try await fixture.produce([
            ProducerRecord(topic: fixture.deadLetterTopic, partition: 0, key: nil, value: Array("plain".utf8)),
            badCount,
            fixture.deadLetter(DeadLetterFixture.letter(.phoneRisk, "500"), externalId: "ok", inputOffset: 2),
        ])

        let entries = try await fixture.readAll(try await DeadLetterScan.open(configuration: fixture.configuration, topic: fixture.deadLetterTopic))
        #expect(entries.map(\.offset) == [0, 1, 2])
        guard entries.count == 3 else { return }
        guard case .unreadable(let missing) = entries[0].content, case .unreadable(let negative) = entries[1].content else {
            Issue.record("the first two records were read as dead letters")
            return
        }
        #expect(missing.header == DeadLetter.Header.source)
        #expect(negative.header == DeadLetter.Header.replayCount)
        #expect(entries[0].record.value == Array("plain".utf8))
        #expect(entries[2].info?.deadLetter.code == "500")
    }

    @Test func aPartitionAndOffsetRangeLimitTheScan() async throws {
        let fixture = try await DeadLetterFixture.make(deadLetterPartitions: 2)
        try await fixture.produce((0..<10).map { index in
            fixture.deadLetter(DeadLetterFixture.letter(.numberScoring, "5"), externalId: "evt-\(index)", inputOffset: Int64(index), partition: Int32(index % 2))
        })
        let range = try DeadLetterFilter(partition: 1, fromOffset: 2, toOffset: 3)
        let scan = try await DeadLetterScan.open(configuration: fixture.configuration, topic: fixture.deadLetterTopic, filter: range)
        #expect(scan.ranges == [DeadLetterScan.PartitionRange(partition: 1, start: 2, end: 4)])
        let entries = try await fixture.readAll(scan)
        #expect(entries.map { "\($0.partition):\($0.offset)" } == ["1:2", "1:3"])
        #expect(entries.compactMap { $0.info.map { Int($0.original.offset) } } == [5, 7])

        // A range past the end is empty and still terminates; --from-offset alone reads to the end.
        let past = try await DeadLetterScan.open(
            configuration: fixture.configuration, topic: fixture.deadLetterTopic, filter: try DeadLetterFilter(partition: 0, fromOffset: 50, toOffset: 60)
        )
        #expect(past.totalOffsets == 0)
        #expect(try await fixture.readAll(past).isEmpty)
        let tail = try await DeadLetterScan.open(
            configuration: fixture.configuration, topic: fixture.deadLetterTopic, filter: try DeadLetterFilter(partition: 0, fromOffset: 3)
        )
        #expect(try await fixture.readAll(tail).map(\.offset) == [3, 4])
    }

    @Test func aTailOfTransactionMarkersStillEnds() async throws {
        // The worker writes dead letters in transactions: the last offsets of the topic are commit markers,
        // which a consumer never receives.
        let fixture = try await DeadLetterFixture.make()
        let producer = try KafkaProducer(configuration: fixture.configuration(["transactional.id": "dlq-scan-\(UUID())"]))
        try await producer.initTransactions()
        for batch in 0..<2 {
            try producer.beginTransaction()
            for index in 0..<2 {
                let record = DeadLetterFixture.letter(.numberScoring, "7")
                    .record(for: fixture.input(externalId: "txn-\(batch)-\(index)", offset: Int64(batch * 2 + index)), topic: fixture.deadLetterTopic)
                try await producer.send(record)
            }
            try await producer.commitTransaction()
        }
        await producer.close()

        let scan = try await DeadLetterScan.open(configuration: fixture.configuration, topic: fixture.deadLetterTopic, stallTimeout: .seconds(20))
        let entries = try await fixture.readAll(scan)
        #expect(entries.count == 4)
        #expect(entries.compactMap { $0.info.flatMap { try? LifecycleEvent.decode(value: $0.value).externalId } } == ["txn-0-0", "txn-0-1", "txn-1-0", "txn-1-1"])
        #expect(scan.ranges[0].end > entries.map(\.offset).max().map { $0 + 1 } ?? 0, "the topic ends with a marker")
    }

    @Test func unknownTopicsAndPartitionsAreUsageErrors() async throws {
        let fixture = try await DeadLetterFixture.make(deadLetterPartitions: 2)
        do {
            _ = try await DeadLetterScan.open(configuration: fixture.configuration, topic: "no-such-topic-\(UUID())")
            Issue.record("an unknown topic was opened")
        } catch {
            guard case .unknownTopic = error else { throw error }
            #expect(error.isUsageError)
        }
        let third = try DeadLetterFilter(partition: 2)
        do {
            _ = try await DeadLetterScan.open(configuration: fixture.configuration, topic: fixture.deadLetterTopic, filter: third)
            Issue.record("an unknown partition was opened")
        } catch {
            guard case .unknownPartition(_, 2, 2) = error else { throw error }
            #expect(error.isUsageError)
            #expect(error.description.contains("has no partition 2"))
        }
    }
}

/// An input topic and a dead-letter topic on the test broker, and ways to fill and read them.
struct DeadLetterFixture {
    let broker: TestBroker
    let inputTopic: String
    let deadLetterTopic: String

    /// The time the fixture's dead letters count back from.
    static let now = Date(timeIntervalSince1970: 1_754_484_834.120)

    /// Two fresh topics on the shared test broker.
    static func make(deadLetterPartitions: Int32 = 1, inputPartitions: Int32 = 1) async throws -> DeadLetterFixture {
        let broker = try await TestBroker.shared()
        let input = try await broker.createTopic(prefix: "input", partitions: inputPartitions)
        let dlq = try await broker.createTopic(prefix: "dlq", partitions: deadLetterPartitions)
        return DeadLetterFixture(broker: broker, inputTopic: input, deadLetterTopic: dlq)
    }

    /// The broker's client settings.
    var configuration: KafkaConfiguration { broker.configuration() }

    /// The broker's client settings with extra properties.
    func configuration(_ properties: [String: String]) -> KafkaConfiguration { broker.configuration(properties) }

    /// A dead letter that failed `minutesAgo` minutes before ``now``.
    static func letter(_ source: FailureSource, _ code: String, minutesAgo: Int = 0, attempts: Int = 1) -> DeadLetter {
        DeadLetter(source: source, code: code, message: "failed with \(code) for +436501234567", attempts: attempts, failedAt: now.addingTimeInterval(Double(-60 * minutesAgo)))
    }

    /// A valid lifecycle event's bytes.
    static func event(_ externalId: String, phone: String = "+436501234567") -> [UInt8] {
        Array(#"{"externalId":"\#(externalId)","accountLifecycleEvent":"sign-in","phoneNumber":"\#(phone)"}"#.utf8)
    }

    /// An input record as the worker read it.
    func input(externalId: String, offset: Int64, partition: Int32 = 0, value: [UInt8]? = nil, headers: [KafkaHeader] = []) -> KafkaRecord {
        KafkaRecord(
            topic: inputTopic, partition: partition, offset: offset, key: Array("key-\(externalId)".utf8),
            value: value ?? Self.event(externalId), headers: headers
        )
    }

    /// The dead-letter record of an input record, for `partition` of the dead-letter topic.
    func deadLetter(
        _ letter: DeadLetter, externalId: String, inputOffset: Int64, inputPartition: Int32 = 0, partition: Int32 = 0,
        value: [UInt8]? = nil, headers: [KafkaHeader] = []
    ) -> ProducerRecord {
        let original = input(externalId: externalId, offset: inputOffset, partition: inputPartition, value: value, headers: headers)
        var record = letter.record(for: original, topic: deadLetterTopic)
        record.partition = partition
        return record
    }

    /// Sends records with one producer and returns where each landed, in order.
    @discardableResult
    func produce(_ records: [ProducerRecord]) async throws -> [DeliveryReport] {
        let producer = try KafkaProducer(configuration: configuration)
        let results = try await producer.send(records)
        await producer.close()
        return try results.map { try $0.get() }
    }

    /// Every entry a scan hands over.
    func readAll(_ scan: DeadLetterScan) async throws -> [DeadLetterScan.Entry] {
        var entries: [DeadLetterScan.Entry] = []
        try await scan.read { entries.append(contentsOf: $0) }
        return entries
    }

    /// The committed records of a topic's partitions, read directly from the broker.
    func records(of topic: String, partitions: Int32 = 1) throws -> [KafkaRecord] {
        let reader = try CommittedLogReader(bootstrapServers: broker.bootstrapServers)
        return try (0..<partitions).flatMap { try reader.read(topic: topic, partition: $0).committed }
    }
}
