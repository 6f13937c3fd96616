/// A record to send: topic, optional partition, key, value and headers.
public struct ProducerRecord: Sendable, Hashable {
    /// The topic to send to.
    public var topic: String
    /// The partition, or nil for the configured partitioner (by key).
    public var partition: Int32?
    /// The key bytes, nil for a null key.
    public var key: [UInt8]?
    /// The value bytes, nil for a null value (a tombstone).
    public var value: [UInt8]?
    /// The headers, in order.
    public var headers: [KafkaHeader]

    /// A record for `topic`.
    public init(topic: String, partition: Int32? = nil, key: [UInt8]?, value: [UInt8]?, headers: [KafkaHeader] = []) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
    }
}

/// Where the broker stored a record it acknowledged.
public struct DeliveryReport: Sendable, Hashable {
    /// The topic.
    public var topic: String
    /// The partition.
    public var partition: Int32
    /// The record's offset, or -1 when the broker did not say (as for acks=0).
    public var offset: Int64

    /// A report of a record stored at `offset` of `topic`'s `partition`.
    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }
}
