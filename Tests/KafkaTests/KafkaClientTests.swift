import Foundation
import Kafka
import KafkaTestSupport
import Testing

@Suite("Kafka binding against a real broker")
struct KafkaClientTests {
    @Test func loadedLibrdkafkaIsAtLeast2_2() {
        let parts = Librdkafka.version.split(separator: ".").compactMap { Int($0.prefix { $0.isNumber }) }
        #expect(parts.count >= 2)
        #expect((parts[0], parts[1]) >= (2, 2), "loaded librdkafka \(Librdkafka.version)")
    }

    @Test func unknownPropertyIsNamedInTheError() {
        var configuration = KafkaConfiguration(bootstrapServers: "127.0.0.1:1")
        configuration["no.such.property"] = "1"
        let error = #expect(throws: KafkaError.self) { try KafkaProducer(configuration: configuration) }
        #expect(error?.message.contains("no.such.property") == true, "\(String(describing: error))")
    }

    @Test func invalidValueIsNamedInTheError() {
        var configuration = KafkaConfiguration(bootstrapServers: "127.0.0.1:1")
        configuration["acks"] = "banana"
        let error = #expect(throws: KafkaError.self) { try configuration.validate() }
        #expect(error?.message.contains("acks") == true, "\(String(describing: error))")
    }

    @Test func propertiesParseFromText() throws {
        let parsed = try KafkaConfiguration.parseProperties("linger.ms=5, compression.type = lz4")
        #expect(parsed == ["linger.ms": "5", "compression.type": "lz4"])
        #expect(throws: KafkaError.self) { try KafkaConfiguration.parseProperties("linger.ms") }
    }

    @Test func roundTripKeepsKeysValuesAndHeaders() async throws {
        let broker = try await TestBroker.shared()
        let topic = try await broker.createTopic(prefix: "roundtrip", partitions: 3)
        let producer = try KafkaProducer(configuration: broker.configuration())
        let sent = (0..<60).map { index in
            ProducerRecord(
                topic: topic,
                key: Array("key-\(index % 7)".utf8),
                value: Array("value-\(index)".utf8),
                headers: [KafkaHeader(name: "traceparent", text: "00-\(index)"), KafkaHeader(name: "null", value: nil)]
            )
        }
        let reports = try await producer.send(sent)
        #expect(reports.allSatisfy { (try? $0.get()) != nil })
        let single = try await producer.send(ProducerRecord(topic: topic, partition: 2, key: nil, value: Array("last".utf8)))
        #expect(single.partition == 2)
        #expect(single.offset >= 0)
        await producer.close()
        await producer.close()

        let consumer = try KafkaConsumer(configuration: broker.consumerConfiguration(groupID: "roundtrip-\(UUID())"))
        try consumer.subscribe(topics: [topic])
        let probe = ConsumerProbe(consumer)
        let seen = try await probe.wait("61 records") { $0.records.count >= 61 }
        await probe.stop()
        await consumer.close()

        let byValue = Dictionary(uniqueKeysWithValues: seen.records.map { (String(decoding: $0.value ?? [], as: UTF8.self), $0) })
        for (index, record) in sent.enumerated() {
            let received = try #require(byValue["value-\(index)"])
            #expect(received.key == record.key)
            #expect(received.headers == record.headers)
            #expect(received.timestampMilliseconds != nil)
        }
        #expect(byValue["last"]?.partition == 2)
        #expect(byValue["last"]?.key == nil)
        // Records with one key land in one partition, in the order sent.
        for key in Set(sent.compactMap(\.key)) {
            let withKey = seen.records.filter { $0.key == key }
            #expect(Set(withKey.map(\.partition)).count == 1)
            #expect(withKey.map(\.offset) == withKey.map(\.offset).sorted())
        }
    }

    @Test(arguments: ["cooperative-sticky", "range"])
    func groupSplitsPartitionsAndHandsThemOverWhenOneLeaves(strategy: String) async throws {
        let broker = try await TestBroker.shared()
        let topic = try await broker.createTopic(prefix: "group", partitions: 4)
        let group = "group-\(UUID())"
        let settings = ["partition.assignment.strategy": strategy]
        let first = ConsumerProbe(try KafkaConsumer(configuration: broker.consumerConfiguration(groupID: group, settings)))
        try first.consumer.subscribe(topics: [topic])
        try await first.wait("first consumer owns all 4") { $0.current.count == 4 }
        let second = ConsumerProbe(try KafkaConsumer(configuration: broker.consumerConfiguration(groupID: group, settings)))
        try second.consumer.subscribe(topics: [topic])
        try await second.wait("second consumer gets partitions") { !$0.current.isEmpty }
        try await first.wait("first consumer gives some up") { $0.current.count < 4 && !$0.revoked.isEmpty }
        try await first.wait("the two split the partitions") { firstSeen in
            let secondSeen = second.snapshot
            return firstSeen.current.count + secondSeen.current.count == 4 && firstSeen.current.isDisjoint(with: secondSeen.current)
        }
        let leaverOwned = first.snapshot.current
        #expect(!leaverOwned.isEmpty)

        try first.consumer.unsubscribe()
        let leaver = try await first.wait("the leaver observes its revoke") { seen in seen.current.isEmpty }
        #expect(Set(leaver.revoked.flatMap { $0 }).isSuperset(of: leaverOwned))
        let stayer = try await second.wait("the stayer owns all 4") { $0.current.count == 4 }
        #expect(leaverOwned.isSubset(of: stayer.current))
        #expect(try second.consumer.assignment().count == 4)
        await first.stop()
        await second.stop()
    }

    @Test func committedOffsetIsWhereARestartResumes() async throws {
        let broker = try await TestBroker.shared()
        let topic = try await broker.createTopic(prefix: "commit", partitions: 1)
        let producer = try KafkaProducer(configuration: broker.configuration())
        _ = try await producer.send((0..<10).map { ProducerRecord(topic: topic, key: nil, value: Array("\($0)".utf8)) })
        await producer.close()
        let group = "commit-\(UUID())"
        let partition = TopicPartition(topic: topic, partition: 0)

        let first = ConsumerProbe(try KafkaConsumer(configuration: broker.consumerConfiguration(groupID: group)))
        try first.consumer.subscribe(topics: [topic])
        try await first.wait("10 records") { $0.records.count == 10 }
        try first.consumer.storeOffsets([TopicPartitionOffset(partition, offset: 4)])
        try await first.consumer.commit()
        try await first.consumer.commit([TopicPartitionOffset(partition, offset: 5)])
        let committed = try await first.consumer.committed([partition])
        #expect(committed.first?.offset == 5)
        await first.stop()

        let second = ConsumerProbe(try KafkaConsumer(configuration: broker.consumerConfiguration(groupID: group)))
        try second.consumer.subscribe(topics: [topic])
        let seen = try await second.wait("the 5 uncommitted records") { $0.records.count >= 5 }
        #expect(seen.records.map(\.offset) == [5, 6, 7, 8, 9])
        #expect(try second.consumer.position([partition]).first?.offset == 10)
        await second.stop()
    }

    @Test func pauseHoldsAPartitionBackAndResumeReleasesIt() async throws {
        let broker = try await TestBroker.shared()
        let topic = try await broker.createTopic(prefix: "pause", partitions: 2)
        let paused = TopicPartition(topic: topic, partition: 0)
        let producer = try KafkaProducer(configuration: broker.configuration())
        func send(_ partition: Int32, _ label: String, _ count: Int) async throws {
            let records = (0..<count).map { ProducerRecord(topic: topic, partition: partition, key: nil, value: Array("\(label)-\($0)".utf8)) }
            for result in try await producer.send(records) { _ = try result.get() }
        }
        try await send(0, "before", 5)
        let probe = ConsumerProbe(try KafkaConsumer(configuration: broker.consumerConfiguration(groupID: "pause-\(UUID())")))
        try probe.consumer.subscribe(topics: [topic])
        try await probe.wait("the first 5") { $0.records.count == 5 }

        try probe.consumer.pause([paused])
        try await send(0, "while-paused", 20)
        // A marker on the other partition, sent later: once it arrives, anything of the paused partition would have too.
        try await send(1, "marker", 1)
        let whilePaused = try await probe.wait("the marker") { $0.records.contains { $0.partition == 1 } }
        #expect(whilePaused.records.filter { $0.partition == 0 }.count == 5)

        try probe.consumer.resume([paused])
        let after = try await probe.wait("the paused records") { $0.records.count == 26 }
        let partitionZero = after.records.filter { $0.partition == 0 }.map(\.offset)
        #expect(partitionZero == Array(0..<25))
        await probe.stop()
        await producer.close()
    }

    @Test func boundedBufferDeliversEveryRecordOnceInOrder() async throws {
        let broker = try await TestBroker.shared()
        let topic = try await broker.createTopic(prefix: "flow", partitions: 3)
        let producer = try KafkaProducer(configuration: broker.configuration())
        let count = 3_000
        for result in try await producer.send((0..<count).map { ProducerRecord(topic: topic, key: Array("k\($0 % 11)".utf8), value: Array("\($0)".utf8)) }) {
            _ = try result.get()
        }
        await producer.close()
        // A buffer of 20 records forces fetching to pause and resume many times; each resume starts a fetch, which
        // Tansu seems to answer only after fetch.wait.max.ms (500 ms by default; 150 resumes took over 60 s on a loaded CI).
        let consumer = try KafkaConsumer(
            configuration: broker.consumerConfiguration(groupID: "flow-\(UUID())", ["fetch.wait.max.ms": "20"]),
            options: .init(bufferCapacity: 20, maxBatchSize: 7)
        )
        try consumer.subscribe(topics: [topic])
        let probe = ConsumerProbe(consumer) { batch in
            #expect(batch.count <= 7)
            await Task.yield()
        }
        let seen = try await probe.wait(timeout: .seconds(120), "\(count) records") { $0.records.count >= count }
        await probe.stop()
        #expect(seen.records.count == count)
        #expect(Set(seen.records.map { String(decoding: $0.value ?? [], as: UTF8.self) }).count == count)
        for partition in Int32(0)..<3 {
            let offsets = seen.records.filter { $0.partition == partition }.map(\.offset)
            #expect(offsets == Array(0..<Int64(offsets.count)))
        }
    }

    @Test func slowProcessingDoesNotCostTheAssignment() async throws {
        let broker = try await TestBroker.shared()
        let topic = try await broker.createTopic(prefix: "slow", partitions: 1)
        let producer = try KafkaProducer(configuration: broker.configuration())
        _ = try await producer.send((0..<3).map { ProducerRecord(topic: topic, partition: 0, key: nil, value: Array("\($0)".utf8)) })
        let consumer = try KafkaConsumer(
            configuration: broker.consumerConfiguration(groupID: "slow-\(UUID())"),
            options: .init(bufferCapacity: 1, maxBatchSize: 1)
        )
        try consumer.subscribe(topics: [topic])
        // The first batch takes longer than max.poll.interval.ms (6 s) to process.
        let probe = ConsumerProbe(consumer) { batch in
            if batch.first?.offset == 0 { try? await Task.sleep(for: .seconds(7)) }
        }
        try await probe.wait("3 records") { $0.records.count == 3 }
        _ = try await producer.send(ProducerRecord(topic: topic, partition: 0, key: nil, value: Array("3".utf8)))
        let seen = try await probe.wait("the fourth record") { $0.records.count == 4 }
        #expect(seen.revoked.isEmpty, "the consumer lost its partitions: \(seen.revoked)")
        #expect(seen.records.map(\.offset) == [0, 1, 2, 3])
        await probe.stop()
        await producer.close()
    }
}
