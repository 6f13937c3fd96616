import Foundation
import Kafka
import Logging
import RiskEvents
import Synchronization

/// One pass over a dead-letter topic, from the start of each partition (or the filter's offsets) to the end each
/// partition had when the scan was opened, so it always terminates; it never commits offsets.
///
/// ``open(configuration:topic:filter:stallTimeout:logger:)`` checks the topic, takes the watermarks and starts the
/// consumer; ``read(_:)`` hands over the records batch by batch, each as a dead letter or as unreadable, and closes
/// it (``close()`` instead, when the records are not wanted). A partition is
/// finished when a record at or past its end's last offset arrived, or (for a tail of transaction markers, which
/// are never delivered) when the consumer's position reached the end and stayed there, with nothing arriving,
/// for two idle checks in a row.
public final class DeadLetterScan: Sendable {
    /// A record read from the dead-letter topic, with its own partition and offset.
    public struct Entry: Sendable, Hashable {
        /// The dead-letter partition.
        public var partition: Int32
        /// The dead-letter offset.
        public var offset: Int64
        /// The record as read.
        public var record: KafkaRecord
        /// The dead letter, or why the record is not readable as one.
        public var content: Content

        /// An entry for `record`, read as a dead letter.
        public init(record: KafkaRecord) {
            partition = record.partition
            offset = record.offset
            self.record = record
            do {
                content = .deadLetter(try DeadLetter.Info(from: record))
            } catch {
                content = .unreadable(error)
            }
        }

        /// The dead letter, when the record is readable as one.
        public var info: DeadLetter.Info? {
            if case .deadLetter(let info) = content { return info }
            return nil
        }
    }

    /// What a dead-letter record holds.
    public enum Content: Sendable, Hashable {
        /// A dead letter with its failure headers.
        case deadLetter(DeadLetter.Info)
        /// A record whose dead-letter headers are missing or unreadable.
        case unreadable(DeadLetter.Failure)
    }

    /// The offsets read in one partition: from `start` up to, not including, `end`.
    public struct PartitionRange: Sendable, Hashable {
        /// The dead-letter partition.
        public var partition: Int32
        /// The first offset read.
        public var start: Int64
        /// One past the last offset read: the high watermark when the scan was opened (or `--to-offset` + 1).
        public var end: Int64

        /// How many offsets the range spans (transaction markers included).
        public var count: Int64 { max(0, end - start) }
    }

    /// Why a scan cannot start or cannot finish.
    public enum Failure: Error, Sendable, CustomStringConvertible {
        /// The topic does not exist.
        case unknownTopic(String)
        /// The partition asked for does not exist.
        case unknownPartition(topic: String, partition: Int32, partitions: Int)
        /// The broker or client failed.
        case kafka(KafkaError)
        /// Nothing arrived and no position moved for this long while partitions were unfinished.
        case stalled(partitions: [Int32], after: Duration)
        /// The consumer ended before the scan was finished.
        case consumerEnded
        /// The scan was read (or closed) before.
        case alreadyRead

        /// True for the failures that come from the arguments (exit code 2).
        public var isUsageError: Bool {
            switch self {
            case .unknownTopic, .unknownPartition: true
            case .kafka, .stalled, .consumerEnded, .alreadyRead: false
            }
        }

        /// One line saying what went wrong.
        public var description: String {
            switch self {
            case .unknownTopic(let topic): "topic '\(topic)' does not exist"
            case .unknownPartition(let topic, let partition, let partitions):
                "topic '\(topic)' has no partition \(partition) (it has \(partitions): 0 to \(partitions - 1))"
            case .kafka(let error): "\(error)"
            case .stalled(let partitions, let after):
                "reading the dead-letter topic made no progress for \(after) (partitions \(partitions.map(String.init).joined(separator: ", ")) unfinished)"
            case .consumerEnded: "the consumer ended before the dead-letter topic was read to its end"
            case .alreadyRead: "this scan of the dead-letter topic was read or closed already"
            }
        }
    }

    /// The dead-letter topic.
    public let topic: String
    /// The offsets to read, by partition, fixed when the scan was opened.
    public let ranges: [PartitionRange]
    /// Wait this long for progress before giving up with ``Failure/stalled(partitions:after:)``.
    public let stallTimeout: Duration

    /// The consumer, assigned to the partitions with something to read; nil when there is nothing to read.
    private let consumer: KafkaConsumer?
    private let logger: Logger
    /// How long to wait for records before checking positions.
    private let idleInterval: Duration
    /// Whether ``read(_:)`` or ``close()`` was called.
    private let used = Mutex(false)

    /// How many offsets the scan spans (an upper bound of the records it hands over).
    public var totalOffsets: Int64 { ranges.reduce(0) { $0 + $1.count } }

    private init(
        topic: String, ranges: [PartitionRange], stallTimeout: Duration, consumer: KafkaConsumer?, logger: Logger, idleInterval: Duration
    ) {
        self.topic = topic
        self.ranges = ranges
        self.stallTimeout = stallTimeout
        self.consumer = consumer
        self.logger = logger
        self.idleInterval = idleInterval
    }

    /// Checks that `topic` (and the filter's partition) exists and fixes what to read: each partition's range from
    /// its low watermark (or `fromOffset`) to its high watermark now (or `toOffset` + 1). The high watermark is the
    /// larger of the listed one and the one the first fetch reports, since some brokers (Tansu) list it short.
    /// Call ``read(_:)`` or ``close()`` afterwards.
    public static func open(
        configuration: KafkaConfiguration,
        topic: String,
        filter: DeadLetterFilter = .all,
        stallTimeout: Duration = .seconds(60),
        logger: Logger = Logger(label: "risk.dlq.scan")
    ) async throws(Failure) -> DeadLetterScan {
        let listed: [Int32: (low: Int64, high: Int64)]
        do {
            listed = try await listedWatermarks(configuration: configuration, topic: topic, filter: filter, logger: logger)
        } catch let failure as Failure {
            throw failure
        } catch {
            throw .kafka(kafkaError(error))
        }
        let partitions = listed.keys.sorted()
        func range(_ partition: Int32, high: Int64) -> PartitionRange {
            let low = listed[partition]?.low ?? 0
            let start = max(low, filter.fromOffset ?? low)
            let end = min(high, filter.toOffset.map { $0 == .max ? $0 : $0 + 1 } ?? high)
            return PartitionRange(partition: partition, start: start, end: max(start, end))
        }
        // A partition listed empty has never been written to; any other may hold records past its listed end.
        let assigned = partitions.filter { listed[$0].map { $0.high > $0.low } ?? false }
        let unsure = Set(assigned.filter { partition in filter.toOffset.map { $0 == .max || $0 + 1 > (listed[partition]?.high ?? 0) } ?? true })
        guard !assigned.isEmpty, assigned.contains(where: { unsure.contains($0) || range($0, high: listed[$0]?.high ?? 0).count > 0 }) else {
            let ranges = partitions.map { range($0, high: listed[$0]?.high ?? 0) }
            return DeadLetterScan(topic: topic, ranges: ranges, stallTimeout: stallTimeout, consumer: nil, logger: logger, idleInterval: .zero)
        }

        let consumer: KafkaConsumer
        do {
            consumer = try KafkaConsumer(
                configuration: scanConfiguration(configuration), options: KafkaConsumer.Options(bufferCapacity: 5000, maxBatchSize: 500),
                logger: logger
            )
        } catch {
            throw .kafka(kafkaError(error))
        }
        do {
            try consumer.assign(assigned.map { TopicPartitionOffset(topic: topic, partition: $0, offset: range($0, high: .max).start) })
            let fetched = try await fetchedHighWatermarks(consumer, topic: topic, partitions: unsure, timeout: stallTimeout)
            let ranges = partitions.map { partition in
                let listedHigh = listed[partition]?.high ?? 0
                return range(partition, high: max(listedHigh, fetched[partition] ?? listedHigh))
            }
            let idle = ranges.filter { $0.count == 0 && assigned.contains($0.partition) }.map { TopicPartition(topic: topic, partition: $0.partition) }
            if !idle.isEmpty { try consumer.pause(idle) }
            if ranges.allSatisfy({ $0.count == 0 }) {
                await consumer.close()
                return DeadLetterScan(topic: topic, ranges: ranges, stallTimeout: stallTimeout, consumer: nil, logger: logger, idleInterval: .zero)
            }
            return DeadLetterScan(
                topic: topic, ranges: ranges, stallTimeout: stallTimeout, consumer: consumer, logger: logger, idleInterval: .milliseconds(250)
            )
        } catch {
            await consumer.close()
            if let failure = error as? Failure { throw failure }
            throw .kafka(kafkaError(error))
        }
    }

    /// The low and high watermarks the broker lists for the topic's partitions (or the filter's one partition).
    private static func listedWatermarks(
        configuration: KafkaConfiguration, topic: String, filter: DeadLetterFilter, logger: Logger
    ) async throws -> [Int32: (low: Int64, high: Int64)] {
        let admin = try KafkaAdmin(configuration: configuration, logger: logger)
        defer { admin.close() }
        let topics = try await admin.topics()
        guard let partitionCount = topics[topic] else { throw Failure.unknownTopic(topic) }
        let partitions: [Int32]
        if let only = filter.partition {
            guard only < partitionCount else { throw Failure.unknownPartition(topic: topic, partition: only, partitions: partitionCount) }
            partitions = [only]
        } else {
            partitions = (0..<Int32(partitionCount)).map { $0 }
        }
        var listed: [Int32: (low: Int64, high: Int64)] = [:]
        for partition in partitions {
            listed[partition] = try await admin.watermarks(TopicPartition(topic: topic, partition: partition))
        }
        return listed
    }

    /// The high watermarks the first fetch responses report for `partitions`, waiting for them up to `timeout`.
    private static func fetchedHighWatermarks(
        _ consumer: KafkaConsumer, topic: String, partitions: Set<Int32>, timeout: Duration
    ) async throws -> [Int32: Int64] {
        var fetched: [Int32: Int64] = [:]
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            for partition in partitions where fetched[partition] == nil {
                if let marks = consumer.cachedWatermarks(TopicPartition(topic: topic, partition: partition)) {
                    fetched[partition] = marks.high
                }
            }
            if fetched.count == partitions.count { return fetched }
            if let fatal = consumer.fatalError { throw fatal }
            guard clock.now < deadline else {
                throw Failure.stalled(partitions: partitions.filter { fetched[$0] == nil }.sorted(), after: timeout)
            }
            try await clock.sleep(for: .milliseconds(10))
        }
    }

    /// Consumer settings for reading without a trace: a fresh group that is never committed to, from the earliest
    /// offset when an offset is out of range, with short fetch waits.
    private static func scanConfiguration(_ configuration: KafkaConfiguration) -> KafkaConfiguration {
        var consumerConfiguration = configuration
        // librdkafka needs a group for its consumer calls; a fresh one, never committed to, leaves no trace.
        consumerConfiguration.groupID = "risk-worker-dlq-scan-\(UUID().uuidString.lowercased())"
        consumerConfiguration.groupInstanceID = nil
        consumerConfiguration["enable.auto.commit"] = "false"
        consumerConfiguration["enable.auto.offset.store"] = "false"
        consumerConfiguration["auto.offset.reset"] = "earliest"
        // A fetch the broker holds open waiting for new records delays closing the consumer by as long: keep it short.
        if consumerConfiguration["fetch.wait.max.ms"] == nil { consumerConfiguration["fetch.wait.max.ms"] = "50" }
        return consumerConfiguration
    }

    /// Reads every range to its end, calling `body` with each batch of entries in offset order per partition, then
    /// closes the scan; an error thrown by `body` ends the scan and is rethrown, a Kafka problem is thrown as
    /// ``Failure``. A scan is read once: a second call throws ``Failure/alreadyRead``.
    public func read(_ body: ([Entry]) async throws -> Void) async throws {
        guard !used.withLock({ used in defer { used = true }; return used }) else { throw Failure.alreadyRead }
        var unfinished: [Int32: PartitionProgress] = [:]
        for range in ranges where range.count > 0 {
            unfinished[range.partition] = PartitionProgress(range: range)
        }
        guard let consumer, !unfinished.isEmpty else {
            await consumer?.close()
            return
        }
        do {
            try await scan(consumer, &unfinished, body)
        } catch let error as KafkaError {
            await consumer.close()
            throw Failure.kafka(error)
        } catch {
            await consumer.close()
            throw error
        }
        await consumer.close()
    }

    /// Releases the scan's consumer without reading (after ``read(_:)`` there is nothing left to release).
    public func close() async {
        used.withLock { $0 = true }
        await consumer?.close()
    }

    /// Where one partition's scan stands.
    private struct PartitionProgress {
        let range: PartitionRange
        /// The offset after the last record handed over.
        var next: Int64
        /// The consumer's position last seen at an idle check.
        var lastPosition: Int64 = KafkaOffset.invalid
        /// The position had reached the end at the previous idle check, with nothing arriving since.
        var atEndOnce = false

        init(range: PartitionRange) {
            self.range = range
            next = range.start
        }
    }

    private func scan(_ consumer: KafkaConsumer, _ unfinished: inout [Int32: PartitionProgress], _ body: ([Entry]) async throws -> Void) async throws {
        let clock = ContinuousClock()
        var lastProgress = clock.now
        while !unfinished.isEmpty {
            switch try await Self.nextEvent(consumer, within: idleInterval) {
            case .ended:
                throw consumer.fatalError.map { Failure.kafka($0) } ?? Failure.consumerEnded
            case .event(.partitionsRevoked(let revocation)):
                revocation.complete()
            case .event(.partitionsAssigned):
                break
            case .event(.records(let records)):
                var entries: [Entry] = []
                entries.reserveCapacity(records.count)
                var finished: [TopicPartition] = []
                for record in records where record.topic == topic {
                    guard var progress = unfinished[record.partition] else { continue }
                    guard record.offset >= progress.range.start, record.offset < progress.range.end else { continue }
                    entries.append(Entry(record: record))
                    progress.next = max(progress.next, record.offset + 1)
                    progress.atEndOnce = false
                    if progress.next >= progress.range.end {
                        unfinished[record.partition] = nil
                        finished.append(record.topicPartition)
                    } else {
                        unfinished[record.partition] = progress
                    }
                }
                if !entries.isEmpty {
                    lastProgress = clock.now
                    try await body(entries)
                }
                // Records written after the scan started are not wanted: stop fetching finished partitions.
                if !finished.isEmpty { try? consumer.pause(finished) }
            case .idle:
                let partitions = unfinished.keys.sorted().map { TopicPartition(topic: topic, partition: $0) }
                for position in try consumer.position(partitions) {
                    let partition = position.topicPartition.partition
                    guard var progress = unfinished[partition] else { continue }
                    if position.offset != progress.lastPosition {
                        lastProgress = clock.now
                        progress.lastPosition = position.offset
                    }
                    if position.offset >= progress.range.end {
                        // Twice in a row with nothing arriving between: only transaction markers were left.
                        if progress.atEndOnce {
                            unfinished[partition] = nil
                            try? consumer.pause([position.topicPartition])
                            continue
                        }
                        progress.atEndOnce = true
                    } else {
                        progress.atEndOnce = false
                    }
                    unfinished[partition] = progress
                }
                if !unfinished.isEmpty, lastProgress.duration(to: clock.now) > stallTimeout {
                    throw Failure.stalled(partitions: unfinished.keys.sorted(), after: stallTimeout)
                }
            }
        }
    }

    /// What waiting for the consumer brought.
    private enum Step: Sendable {
        case event(KafkaConsumerEvent)
        case idle
        case ended
    }

    /// The consumer's next event, or `.idle` when none came within `interval`; an event that arrives as the wait
    /// ends is never lost.
    private static func nextEvent(_ consumer: KafkaConsumer, within interval: Duration) async throws -> Step {
        try await withThrowingTaskGroup(of: Step.self) { group in
            group.addTask {
                var events = consumer.events.makeAsyncIterator()
                guard let event = try await events.next() else { return .ended }
                return .event(event)
            }
            group.addTask {
                try await Task.sleep(for: interval)
                return .idle
            }
            var step = try await group.next() ?? .idle
            group.cancelAll()
            // The other task may have finished too; an event it took must not be dropped.
            while let other = try? await group.next() {
                if case .event = other { step = other }
            }
            return step
        }
    }

    private static func kafkaError(_ error: any Error) -> KafkaError {
        (error as? KafkaError) ?? KafkaError(code: -1, message: "\(error)")
    }
}
