import Foundation
import Kafka
import KafkaTestSupport
import Testing

@Suite("Transactions against a real broker")
struct TransactionTests {
    @Test func committedRecordsAreKeptAndAbortedOnesMarked() async throws {
        let broker = try await TestBroker.shared()
        let topic = try await broker.createTopic(prefix: "txn", partitions: 1)
        let producer = try KafkaProducer(configuration: broker.configuration(["transactional.id": "txn-\(UUID())"]))
        try await producer.initTransactions()
        func transaction(_ label: String, _ count: Int, commit: Bool) async throws {
            try producer.beginTransaction()
            let records = (0..<count).map { ProducerRecord(topic: topic, partition: 0, key: nil, value: Array("\(label)-\($0)".utf8)) }
            for result in try await producer.send(records) { _ = try result.get() }
            if commit { try await producer.commitTransaction() } else { try await producer.abortTransaction() }
        }
        try await transaction("a", 5, commit: true)
        try await transaction("b", 3, commit: false)
        try await transaction("c", 2, commit: true)
        await producer.close()

        let log = try CommittedLogReader(bootstrapServers: broker.bootstrapServers).read(topic: topic, partition: 0)
        let values = log.committed.map { String(decoding: $0.value ?? [], as: UTF8.self) }
        #expect(values == ["a-0", "a-1", "a-2", "a-3", "a-4", "c-0", "c-1"])
        #expect(log.abortedCount == 3)
        #expect(log.openCount == 0)
    }

    @Test func offsetsSentWithATransactionApplyOnlyOnCommit() async throws {
        let broker = try await TestBroker.shared()
        let input = try await broker.createTopic(prefix: "txn-in", partitions: 1)
        let output = try await broker.createTopic(prefix: "txn-out", partitions: 1)
        let plain = try KafkaProducer(configuration: broker.configuration())
        _ = try await plain.send((0..<4).map { ProducerRecord(topic: input, partition: 0, key: nil, value: Array("\($0)".utf8)) })
        await plain.close()

        let group = "txn-group-\(UUID())"
        let partition = TopicPartition(topic: input, partition: 0)
        let probe = ConsumerProbe(try KafkaConsumer(configuration: broker.consumerConfiguration(groupID: group)))
        try probe.consumer.subscribe(topics: [input])
        try await probe.wait("4 input records") { $0.records.count == 4 }
        let metadata = try probe.consumer.groupMetadata()

        let producer = try KafkaProducer(configuration: broker.configuration(["transactional.id": "txn-offsets-\(UUID())"]))
        try await producer.initTransactions()
        try producer.beginTransaction()
        _ = try await producer.send(ProducerRecord(topic: output, partition: 0, key: nil, value: Array("aborted".utf8)))
        try await producer.sendOffsetsToTransaction([TopicPartitionOffset(partition, offset: 2)], groupMetadata: metadata)
        try await producer.abortTransaction()
        #expect(try await probe.consumer.committed([partition]).first?.offset == KafkaOffset.invalid)

        try producer.beginTransaction()
        _ = try await producer.send(ProducerRecord(topic: output, partition: 0, key: nil, value: Array("committed".utf8)))
        try await producer.sendOffsetsToTransaction([TopicPartitionOffset(partition, offset: 4)], groupMetadata: metadata)
        try await producer.commitTransaction()
        #expect(try await probe.consumer.committed([partition]).first?.offset == 4)
        await producer.close()
        await probe.stop()

        let log = try CommittedLogReader(bootstrapServers: broker.bootstrapServers).read(topic: output, partition: 0)
        #expect(log.committed.map { String(decoding: $0.value ?? [], as: UTF8.self) } == ["committed"])
        #expect(log.abortedCount == 1)
    }

    @Test func aSecondProducerWithTheSameTransactionalIDFencesTheFirst() async throws {
        let broker = try await TestBroker.shared()
        let topic = try await broker.createTopic(prefix: "fence", partitions: 1)
        let id = "fence-\(UUID())"
        let old = try KafkaProducer(configuration: broker.configuration(["transactional.id": id]))
        try await old.initTransactions()
        let new = try KafkaProducer(configuration: broker.configuration(["transactional.id": id]))
        try await new.initTransactions()

        try old.beginTransaction()
        _ = try? await old.send(ProducerRecord(topic: topic, partition: 0, key: nil, value: Array("zombie".utf8)))
        let error = await #expect(throws: KafkaError.self) { try await old.commitTransaction() }
        #expect(error?.isFenced == true || error?.isFatal == true, "\(String(describing: error))")
        await old.close()
        await new.close()
    }
}
