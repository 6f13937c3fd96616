import Kafka

/// Where the emitter's cycles go: the producer (transactional in exactly-once mode) and the consumer group's
/// offsets; in production ``KafkaOutputSink``, in unit tests anything that behaves like it.
protocol OutputSink: Sendable {
    /// Starts a transaction.
    func beginTransaction() throws
    /// Produces `records` and returns each one's delivery report, in order.
    func send(_ records: [ProducerRecord]) async throws -> [Result<DeliveryReport, KafkaError>]
    /// Adds the consumed offsets (next offsets to read) to the transaction.
    func sendOffsetsToTransaction(_ offsets: [TopicPartitionOffset]) async throws
    /// Commits the transaction.
    func commitTransaction() async throws
    /// Aborts the transaction.
    func abortTransaction() async throws
    /// Commits consumed offsets outside a transaction (at-least-once).
    func commitOffsets(_ offsets: [TopicPartitionOffset]) async throws
}

/// A session's producer and consumer as the emitter's sink.
struct KafkaOutputSink: OutputSink {
    /// The session's producer.
    let producer: KafkaProducer
    /// The session's consumer, whose group the offsets belong to.
    let consumer: KafkaConsumer

    /// The sink of `producer` for `consumer`'s group.
    init(producer: KafkaProducer, consumer: KafkaConsumer) {
        self.producer = producer
        self.consumer = consumer
    }

    func beginTransaction() throws { try producer.beginTransaction() }

    func send(_ records: [ProducerRecord]) async throws -> [Result<DeliveryReport, KafkaError>] {
        try await producer.send(records)
    }

    func sendOffsetsToTransaction(_ offsets: [TopicPartitionOffset]) async throws {
        try await producer.sendOffsetsToTransaction(offsets, groupMetadata: try consumer.groupMetadata())
    }

    func commitTransaction() async throws { try await producer.commitTransaction() }

    func abortTransaction() async throws { try await producer.abortTransaction() }

    func commitOffsets(_ offsets: [TopicPartitionOffset]) async throws { try await consumer.commit(offsets) }
}
