import Kafka

/// How outputs and consumed offsets reach Kafka.
public enum Delivery: String, Sendable, CaseIterable {
    /// Outputs, dead letters and consumed offsets in one transaction.
    case exactlyOnce = "exactly-once"
    /// Offsets committed after the outputs' delivery reports.
    case atLeastOnce = "at-least-once"
}

/// What a worker needs to run its sessions: the cluster, the group, the three topics, delivery and its limits.
public struct WorkerConfiguration: Sendable, CustomStringConvertible {
    /// The bootstrap servers.
    public var brokers = "localhost:9092"
    /// The consumer group.
    public var groupID = "risk-worker"
    /// Where lifecycle events are read.
    public var inputTopic = "account-lifecycle-events"
    /// Where scored events go.
    public var outputTopic = "account-lifecycle-scored"
    /// Where dead letters go.
    public var deadLetterTopic = "account-lifecycle-dlq"
    /// Extra librdkafka properties for both clients (consumer-only ones are left out of the producer's).
    public var kafkaProperties: [String: String] = [:]
    /// Static group membership, so that a restart does not rebalance.
    public var groupInstanceID: String?
    /// This instance's stable transactional id (default: group id and host name).
    public var transactionalID: String?
    /// Exactly-once or at-least-once.
    public var delivery = Delivery.exactlyOnce
    /// Events being processed at once.
    public var maxInFlight = 512
    /// How long shutdown and revocation wait for work in flight.
    public var drainTimeout = Duration.seconds(30)
    /// How long a claim on an externalId lasts unless renewed; another instance takes over an expired one.
    public var claimLease = Duration.seconds(30)

    /// A configuration with every default.
    public init() {}

    /// One line for logs: property names only (their values may be secrets).
    public var description: String {
        "brokers=\(brokers) group=\(groupID) input=\(inputTopic) output=\(outputTopic) dlq=\(deadLetterTopic) "
            + "delivery=\(delivery.rawValue) maxInFlight=\(maxInFlight) drainTimeout=\(drainTimeout) claimLease=\(claimLease) "
            + "properties=[\(kafkaProperties.keys.sorted().joined(separator: ","))]"
    }
}
