import Dispatch

/// What a consumer hands the application: records, or a change of its assignment.
public enum KafkaConsumerEvent: Sendable {
    /// Records fetched, in offset order within each partition.
    case records([KafkaRecord])
    /// Partitions newly assigned to this consumer (for cooperative-sticky, only the added ones).
    case partitionsAssigned([TopicPartition])
    /// Partitions taken away; librdkafka completes the revoke once the application calls
    /// ``PartitionRevocation/complete()``, or after the consumer's revocation timeout.
    case partitionsRevoked(PartitionRevocation)
}

/// Partitions being revoked, held until the application has finished or abandoned their work.
public final class PartitionRevocation: Sendable {
    /// The partitions being revoked.
    public let partitions: [TopicPartition]
    /// True when the partitions were lost (the session expired): their offsets can no longer be committed.
    public let isLost: Bool
    private let semaphore = DispatchSemaphore(value: 0)

    init(partitions: [TopicPartition], isLost: Bool) {
        self.partitions = partitions
        self.isLost = isLost
    }

    /// Lets librdkafka complete the revoke. Calling it more than once is harmless.
    public func complete() {
        semaphore.signal()
    }

    /// Blocks the poll thread until completed or `timeout` passes; true when completed.
    func wait(timeout: Duration) -> Bool {
        semaphore.wait(timeout: .now() + .milliseconds(Int(NativeClient.milliseconds(timeout)))) == .success
    }
}
