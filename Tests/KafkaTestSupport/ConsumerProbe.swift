import Kafka
import Synchronization

/// Runs a consumer's event loop in the background and records what it sees, for tests to wait on.
public final class ConsumerProbe: Sendable {
    /// What the consumer has seen so far.
    public struct Seen: Sendable {
        /// Every record, in the order received.
        public var records: [KafkaRecord] = []
        /// Every assignment event's partitions.
        public var assigned: [[TopicPartition]] = []
        /// Every revoke event's partitions.
        public var revoked: [[TopicPartition]] = []
        /// The partitions assigned now, by the events.
        public var current: Set<TopicPartition> = []
        /// The error that ended the event sequence, if any.
        public var failure: String?
    }

    /// The consumer being probed.
    public let consumer: KafkaConsumer
    private let box = SeenBox()
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// The shared record of what was seen.
    private final class SeenBox: Sendable {
        let seen = Mutex(Seen())
    }

    /// Starts reading `consumer`'s events; `onRecords` runs for each batch before the next event is read.
    public init(_ consumer: KafkaConsumer, onRecords: (@Sendable ([KafkaRecord]) async -> Void)? = nil) {
        self.consumer = consumer
        let box = self.box
        let loop = Task {
            do {
                for try await event in consumer.events {
                    switch event {
                    case .records(let records):
                        if let onRecords { await onRecords(records) }
                        box.seen.withLock { $0.records.append(contentsOf: records) }
                    case .partitionsAssigned(let partitions):
                        box.seen.withLock {
                            $0.assigned.append(partitions)
                            $0.current.formUnion(partitions)
                        }
                    case .partitionsRevoked(let revocation):
                        box.seen.withLock {
                            $0.revoked.append(revocation.partitions)
                            $0.current.subtract(revocation.partitions)
                        }
                        revocation.complete()
                    }
                }
            } catch is CancellationError {
            } catch {
                box.seen.withLock { $0.failure = "\(error)" }
            }
        }
        task.withLock { $0 = loop }
    }

    /// A copy of what has been seen.
    public var snapshot: Seen { box.seen.withLock { $0 } }

    /// Waits until `condition` holds of what has been seen, checking every 20 ms, or throws at the timeout.
    @discardableResult
    public func wait(
        timeout: Duration = .seconds(30),
        _ what: String,
        until condition: (Seen) -> Bool
    ) async throws -> Seen {
        let deadline = ContinuousClock.now + timeout
        while true {
            let current = snapshot
            if condition(current) { return current }
            if let failure = current.failure { throw TestBrokerError("consumer failed while waiting for \(what): \(failure)") }
            if ContinuousClock.now >= deadline {
                throw TestBrokerError("timed out waiting for \(what): \(current.records.count) records, assigned \(current.current.sorted())")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Stops the event loop and closes the consumer.
    public func stop() async {
        let loop = task.withLock { $0 }
        loop?.cancel()
        await consumer.close()
        await loop?.value
    }
}
