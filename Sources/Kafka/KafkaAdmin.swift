import Crdkafka
import Logging
import Synchronization

/// A topic to create.
public struct NewTopic: Sendable, Hashable {
    /// The topic's name.
    public var name: String
    /// How many partitions it has.
    public var partitions: Int32
    /// How many copies of each partition (-1: the broker's default).
    public var replicationFactor: Int32
    /// Topic configuration, such as `retention.ms`.
    public var configs: [String: String]

    /// A topic with `partitions` partitions.
    public init(name: String, partitions: Int32, replicationFactor: Int32 = -1, configs: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.configs = configs
    }
}

/// Administration of a cluster: creating topics and reading what tests and tools need.
public final class KafkaAdmin: Sendable {
    private let handle: NativeHandle
    private let context: ClientContext
    private let closed = Mutex(false)

    /// An admin client for the cluster in `configuration`.
    public init(configuration: KafkaConfiguration, logger: Logger = Logger(label: "kafka.admin")) throws {
        let context = ClientContext(logger: logger)
        self.handle = try NativeClient.make(type: RD_KAFKA_PRODUCER, configuration: configuration, context: context)
        self.context = context
    }

    deinit {
        if !closed.withLock({ $0 }) { rd_kafka_destroy(handle.pointer) }
    }

    /// Creates topics; with `ignoreExisting`, a topic that exists already is not an error.
    public func createTopics(_ topics: [NewTopic], ignoreExisting: Bool = true, timeout: Duration = .seconds(30)) async throws {
        let handle = self.handle
        try await NativeClient.blocking {
            var newTopics: [OpaquePointer?] = []
            defer { newTopics.forEach { rd_kafka_NewTopic_destroy($0) } }
            for topic in topics {
                var errstr = [CChar](repeating: 0, count: 512)
                guard let newTopic = rd_kafka_NewTopic_new(topic.name, topic.partitions, topic.replicationFactor, &errstr, errstr.count) else {
                    throw KafkaError(code: RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue, message: NativeClient.string(errstr))
                }
                newTopics.append(newTopic)
                for (name, value) in topic.configs.sorted(by: { $0.key < $1.key }) {
                    let err = rd_kafka_NewTopic_set_config(newTopic, name, value)
                    if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, message: "topic config \(name): \(String(cString: rd_kafka_err2str(err)))") }
                }
            }
            let queue = rd_kafka_queue_new(handle.pointer)
            defer { rd_kafka_queue_destroy(queue) }
            let options = rd_kafka_AdminOptions_new(handle.pointer, RD_KAFKA_ADMIN_OP_CREATETOPICS)
            defer { rd_kafka_AdminOptions_destroy(options) }
            var errstr = [CChar](repeating: 0, count: 512)
            _ = rd_kafka_AdminOptions_set_operation_timeout(options, NativeClient.milliseconds(timeout), &errstr, errstr.count)
            newTopics.withUnsafeMutableBufferPointer { buffer in
                rd_kafka_CreateTopics(handle.pointer, buffer.baseAddress, buffer.count, options, queue)
            }
            guard let event = rd_kafka_queue_poll(queue, NativeClient.milliseconds(timeout) + 5000) else {
                throw KafkaError(RD_KAFKA_RESP_ERR__TIMED_OUT, message: "create topics timed out")
            }
            defer { rd_kafka_event_destroy(event) }
            let eventErr = rd_kafka_event_error(event)
            if eventErr != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(eventErr, message: String(cString: rd_kafka_event_error_string(event)))
            }
            let result = rd_kafka_event_CreateTopics_result(event)
            var count = 0
            guard let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return }
            for index in 0..<count {
                let topicResult = results[index]
                let err = rd_kafka_topic_result_error(topicResult)
                if err == RD_KAFKA_RESP_ERR_NO_ERROR || (ignoreExisting && err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) { continue }
                let name = String(cString: rd_kafka_topic_result_name(topicResult))
                let message = rd_kafka_topic_result_error_string(topicResult).map { String(cString: $0) } ?? ""
                throw KafkaError(err, message: "topic \(name): \(message)")
            }
        }
    }

    /// The number of partitions of each topic the cluster has, by name.
    public func topics(timeout: Duration = .seconds(10)) async throws -> [String: Int] {
        let handle = self.handle
        return try await NativeClient.blocking {
            var metadata: UnsafePointer<rd_kafka_metadata>?
            let err = rd_kafka_metadata(handle.pointer, 1, nil, &metadata, NativeClient.milliseconds(timeout))
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else { throw KafkaError(err) }
            defer { rd_kafka_metadata_destroy(metadata) }
            var result: [String: Int] = [:]
            for index in 0..<Int(metadata.pointee.topic_cnt) {
                let topic = metadata.pointee.topics[index]
                guard topic.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
                result[String(cString: topic.topic)] = Int(topic.partition_cnt)
            }
            return result
        }
    }

    /// A partition's low watermark (first offset) and high watermark (next offset to be written), from the broker.
    public func watermarks(_ partition: TopicPartition, timeout: Duration = .seconds(10)) async throws -> (low: Int64, high: Int64) {
        let handle = self.handle
        return try await NativeClient.blocking {
            var low: Int64 = -1
            var high: Int64 = -1
            let err = rd_kafka_query_watermark_offsets(
                handle.pointer, partition.topic, partition.partition, &low, &high, NativeClient.milliseconds(timeout)
            )
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, message: "\(partition): \(String(cString: rd_kafka_err2str(err)))") }
            return (low, high)
        }
    }

    /// Destroys the client; a second call does nothing.
    public func close() {
        let first = closed.withLock { closed -> Bool in
            defer { closed = true }
            return !closed
        }
        if first { rd_kafka_destroy(handle.pointer) }
    }
}
