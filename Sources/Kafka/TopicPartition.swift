import Crdkafka

/// One partition of one topic.
public struct TopicPartition: Hashable, Sendable, CustomStringConvertible, Comparable {
    /// The topic's name.
    public var topic: String
    /// The partition's number.
    public var partition: Int32

    /// The partition `partition` of `topic`.
    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)[\(partition)]" }

    public static func < (lhs: TopicPartition, rhs: TopicPartition) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }
}

/// A partition with an offset: a position to read from, or, when committed, the next offset to consume.
public struct TopicPartitionOffset: Hashable, Sendable, CustomStringConvertible {
    /// The partition.
    public var topicPartition: TopicPartition
    /// The offset; negative values are librdkafka's logical offsets (see ``KafkaOffset``).
    public var offset: Int64

    /// `offset` in `topicPartition`.
    public init(_ topicPartition: TopicPartition, offset: Int64) {
        self.topicPartition = topicPartition
        self.offset = offset
    }

    /// `offset` in partition `partition` of `topic`.
    public init(topic: String, partition: Int32, offset: Int64) {
        self.init(TopicPartition(topic: topic, partition: partition), offset: offset)
    }

    public var description: String { "\(topicPartition)@\(offset)" }
}

/// librdkafka's logical offsets.
public enum KafkaOffset {
    /// The partition's first offset.
    public static let beginning = Int64(RD_KAFKA_OFFSET_BEGINNING)
    /// The partition's end: only new records.
    public static let end = Int64(RD_KAFKA_OFFSET_END)
    /// The committed offset, or `auto.offset.reset` when there is none.
    public static let stored = Int64(RD_KAFKA_OFFSET_STORED)
    /// No offset.
    public static let invalid = Int64(RD_KAFKA_OFFSET_INVALID)
}

/// Converts between Swift values and `rd_kafka_topic_partition_list_t`.
enum PartitionList {
    /// A new native list of partitions with offsets; the caller destroys it.
    static func make(_ offsets: [TopicPartitionOffset]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        let list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t> = rd_kafka_topic_partition_list_new(Int32(max(offsets.count, 1)))
        for item in offsets {
            let element = rd_kafka_topic_partition_list_add(list, item.topicPartition.topic, item.topicPartition.partition)
            element?.pointee.offset = item.offset
        }
        return list
    }

    /// A new native list of partitions, offsets left invalid; the caller destroys it.
    static func make(_ partitions: [TopicPartition]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        make(partitions.map { TopicPartitionOffset($0, offset: KafkaOffset.invalid) })
    }

    /// The elements of a native list.
    static func elements(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>?) -> [(TopicPartitionOffset, rd_kafka_resp_err_t)] {
        guard let list, let elems = list.pointee.elems else { return [] }
        return (0..<Int(list.pointee.cnt)).map { index in
            let element = elems[index]
            let topic = String(cString: element.topic)
            return (TopicPartitionOffset(topic: topic, partition: element.partition, offset: element.offset), element.err)
        }
    }

    /// The partitions of a native list.
    static func partitions(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>?) -> [TopicPartition] {
        elements(list).map { $0.0.topicPartition }
    }

    /// The first per-partition error of a native list, if any.
    static func firstError(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>?) -> KafkaError? {
        for (item, err) in elements(list) where err != RD_KAFKA_RESP_ERR_NO_ERROR {
            return KafkaError(err, message: "\(item.topicPartition): \(String(cString: rd_kafka_err2str(err)))")
        }
        return nil
    }
}
