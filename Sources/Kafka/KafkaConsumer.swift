import Crdkafka
import Logging
import Synchronization

/// A Kafka consumer: records and assignment changes as an async sequence, fed by its own poll thread.
///
/// The poll thread keeps serving librdkafka (group heartbeats, rebalances) however slowly the
/// application consumes: records wait in a bounded buffer, and when it is full the thread pauses
/// fetching instead of stopping to poll, so `max.poll.interval.ms` is never exceeded by slow work.
/// Offsets are stored and committed explicitly: `enable.auto.commit` and `enable.auto.offset.store`
/// default to false unless the configuration sets them.
public final class KafkaConsumer: Sendable {
    /// How the consumer hands records over.
    public struct Options: Sendable {
        /// Records buffered between the poll thread and the application before fetching pauses.
        public var bufferCapacity: Int
        /// The largest batch one `.records` event carries.
        public var maxBatchSize: Int
        /// How long a revoke waits for ``PartitionRevocation/complete()`` before proceeding.
        public var revocationTimeout: Duration

        /// Options with the given values (defaults: 10,000 records, batches of 500, 30 s).
        public init(bufferCapacity: Int = 10_000, maxBatchSize: Int = 500, revocationTimeout: Duration = .seconds(30)) {
            self.bufferCapacity = bufferCapacity
            self.maxBatchSize = maxBatchSize
            self.revocationTimeout = revocationTimeout
        }
    }

    private let handle: NativeHandle
    private let context: ConsumerContext
    private let pollThread: PollThread
    private let closed = Mutex(false)

    /// A consumer for `configuration`; throws an error naming any unknown or invalid property.
    public init(configuration: KafkaConfiguration, options: Options = Options(), logger: Logger = Logger(label: "kafka.consumer")) throws {
        var configuration = configuration
        if configuration["enable.auto.commit"] == nil { configuration["enable.auto.commit"] = "false" }
        if configuration["enable.auto.offset.store"] == nil { configuration["enable.auto.offset.store"] = "false" }
        // librdkafka waits this long before fetching again once its prefetch queue is over its thresholds
        // (default 1 s); records move to this consumer's own buffer at once, so a short wait keeps fetching steady.
        if configuration["fetch.queue.backoff.ms"] == nil { configuration["fetch.queue.backoff.ms"] = "10" }
        let buffer = ConsumerEventBuffer(capacity: options.bufferCapacity, maxBatch: options.maxBatchSize)
        let context = ConsumerContext(logger: logger, buffer: buffer, revocationTimeout: options.revocationTimeout)
        let handle = try NativeClient.make(type: RD_KAFKA_CONSUMER, configuration: configuration, context: context) { conf in
            rd_kafka_conf_set_rebalance_cb(conf, ConsumerContext.rebalanceCallback)
        }
        rd_kafka_poll_set_consumer(handle.pointer)
        self.handle = handle
        self.context = context
        self.pollThread = PollThread(name: "kafka-consumer-poll") { [context] stop in
            KafkaConsumer.pollLoop(handle: handle, context: context, stop: stop)
        }
    }

    deinit {
        pollThread.stop.set()
    }

    /// The poll loop: polls until stopped or fatal, then closes and destroys the handle.
    private static func pollLoop(handle: NativeHandle, context: ConsumerContext, stop: PollThread.StopFlag) {
        let rk = handle.pointer
        // The consumer queue carries both messages and group events (rebalances run as callbacks within).
        let queue = rd_kafka_queue_get_consumer(rk)
        var messages = [UnsafeMutablePointer<rd_kafka_message_t>?](repeating: nil, count: 1000)
        while !stop.isSet, context.fatalError == nil {
            context.beginPoll()
            var room = context.buffer.room
            if room <= 0 {
                // Full: wait for the application, but keep serving group events, taking at most one record.
                if !context.buffer.waitForRoom(timeout: .milliseconds(100)) {
                    if let message = rd_kafka_consumer_poll(rk, 0) {
                        context.take(message)
                        context.flushPending(rk)
                    }
                    continue
                }
                room = context.buffer.room
            }
            guard let first = rd_kafka_consumer_poll(rk, 100) else { continue }
            context.take(first)
            let more = min(messages.count, room - 1)
            if more > 0 {
                let count = messages.withUnsafeMutableBufferPointer { buffer in
                    rd_kafka_consume_batch_queue(queue, 0, buffer.baseAddress, more)
                }
                for index in 0..<max(0, count) {
                    if let message = messages[index] { context.take(message) }
                }
            }
            context.flushPending(rk)
        }
        if let queue { rd_kafka_queue_destroy(queue) }
        context.markClosing()
        let err = rd_kafka_consumer_close(rk)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            context.logger.warning("consumer close", metadata: ["error": "\(KafkaError(err))"])
        }
        rd_kafka_destroy(rk)
        context.buffer.finish(throwing: context.fatalError)
    }

    /// The consumer's events: records and assignment changes, until the consumer closes.
    ///
    /// Iterate it from one task at a time.
    public var events: Events { Events(consumer: self) }

    /// The async sequence of a consumer's events.
    public struct Events: AsyncSequence, Sendable {
        public typealias Element = KafkaConsumerEvent
        let consumer: KafkaConsumer

        public func makeAsyncIterator() -> Iterator { Iterator(consumer: consumer) }

        /// Iterates a consumer's events.
        public struct Iterator: AsyncIteratorProtocol {
            let consumer: KafkaConsumer

            public mutating func next() async throws -> KafkaConsumerEvent? {
                let (event, action) = try await consumer.context.buffer.next()
                if action == .resumeFetching { consumer.context.syncFetching(consumer.handle.pointer) }
                return event
            }
        }
    }

    /// Joins the group and subscribes to `topics`.
    public func subscribe(topics: [String]) throws {
        let list = PartitionList.make(topics.map { TopicPartition(topic: $0, partition: RD_KAFKA_PARTITION_UA) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_subscribe(handle.pointer, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err) }
    }

    /// Leaves the subscription: the group revokes this consumer's partitions (with a revoke event) and rebalances.
    public func unsubscribe() throws {
        let err = rd_kafka_unsubscribe(handle.pointer)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err) }
    }

    /// Reads the given partitions from the given offsets, outside any group rebalancing.
    public func assign(_ offsets: [TopicPartitionOffset]) throws {
        let list = PartitionList.make(offsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_assign(handle.pointer, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err) }
    }

    /// The partitions currently assigned to this consumer.
    public func assignment() throws -> [TopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        let err = rd_kafka_assignment(handle.pointer, &list)
        defer { if let list { rd_kafka_topic_partition_list_destroy(list) } }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err) }
        return PartitionList.partitions(list)
    }

    /// Stops delivering the partitions' records, including those already fetched, until resumed.
    public func pause(_ partitions: [TopicPartition]) throws {
        try context.applicationPause(handle.pointer, partitions, pause: true)
    }

    /// Delivers the partitions' records again.
    public func resume(_ partitions: [TopicPartition]) throws {
        try context.applicationPause(handle.pointer, partitions, pause: false)
    }

    /// Stores offsets (the next offset to read) for the next commit of stored offsets.
    public func storeOffsets(_ offsets: [TopicPartitionOffset]) throws {
        guard !offsets.isEmpty else { return }
        let list = PartitionList.make(offsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_offsets_store(handle.pointer, list)
        if let error = PartitionList.firstError(list) { throw error }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err) }
    }

    /// Commits offsets (the next offset to read), or the stored offsets when none are given, and waits for the broker.
    public func commit(_ offsets: [TopicPartitionOffset]? = nil) async throws {
        let handle = self.handle
        try await NativeClient.blocking {
            let list = offsets.map { PartitionList.make($0) }
            defer { if let list { rd_kafka_topic_partition_list_destroy(list) } }
            let err = rd_kafka_commit(handle.pointer, list, 0)
            if err == RD_KAFKA_RESP_ERR__NO_OFFSET { return }
            if let error = PartitionList.firstError(list) { throw error }
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err) }
        }
    }

    /// Starts a commit of offsets (or of the stored offsets) without waiting for the broker.
    public func commitAsync(_ offsets: [TopicPartitionOffset]? = nil) throws {
        let list = offsets.map { PartitionList.make($0) }
        defer { if let list { rd_kafka_topic_partition_list_destroy(list) } }
        let err = rd_kafka_commit(handle.pointer, list, 1)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET { throw KafkaError(err) }
    }

    /// The group's committed offsets for the partitions (``KafkaOffset/invalid`` where none).
    public func committed(_ partitions: [TopicPartition], timeout: Duration = .seconds(10)) async throws -> [TopicPartitionOffset] {
        let handle = self.handle
        return try await NativeClient.blocking {
            let list = PartitionList.make(partitions)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_committed(handle.pointer, list, NativeClient.milliseconds(timeout))
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err) }
            if let error = PartitionList.firstError(list) { throw error }
            return PartitionList.elements(list).map(\.0)
        }
    }

    /// The next offset this consumer will hand the application for each partition.
    public func position(_ partitions: [TopicPartition]) throws -> [TopicPartitionOffset] {
        let list = PartitionList.make(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_position(handle.pointer, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err) }
        return PartitionList.elements(list).map(\.0)
    }

    /// Moves an assigned partition's fetch position to `offset`.
    public func seek(_ offset: TopicPartitionOffset, timeout: Duration = .seconds(10)) async throws {
        let handle = self.handle
        try await NativeClient.blocking {
            let list = PartitionList.make([offset])
            defer { rd_kafka_topic_partition_list_destroy(list) }
            if let error = rd_kafka_seek_partitions(handle.pointer, list, NativeClient.milliseconds(timeout)) {
                throw KafkaError(consuming: error)
            }
            if let error = PartitionList.firstError(list) { throw error }
        }
    }

    /// The low and high watermarks librdkafka last saw for a partition, without asking the broker.
    public func cachedWatermarks(_ partition: TopicPartition) -> (low: Int64, high: Int64)? {
        var low: Int64 = -1
        var high: Int64 = -1
        let err = rd_kafka_get_watermark_offsets(handle.pointer, partition.topic, partition.partition, &low, &high)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0 else { return nil }
        return (low, high)
    }

    /// The consumer's group metadata, for ``KafkaProducer/sendOffsetsToTransaction(_:groupMetadata:timeout:)``.
    public func groupMetadata() throws -> ConsumerGroupMetadata {
        guard let pointer = rd_kafka_consumer_group_metadata(handle.pointer) else {
            throw KafkaError.binding("the consumer has no group metadata (is group.id set?)")
        }
        return ConsumerGroupMetadata(pointer: pointer)
    }

    /// The client's fatal error, if librdkafka has raised one.
    public var fatalError: KafkaError? { context.fatalError }

    /// Leaves the group, stops the poll thread and destroys the client; a second call does nothing.
    ///
    /// Revokes during close complete without a ``KafkaConsumerEvent/partitionsRevoked(_:)`` event:
    /// finish and commit work before closing.
    public func close() async {
        let first = closed.withLock { closed -> Bool in
            defer { closed = true }
            return !closed
        }
        if first {
            context.markClosing()
            pollThread.stop.set()
        }
        await pollThread.join()
    }
}
