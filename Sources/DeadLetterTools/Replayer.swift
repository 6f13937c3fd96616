import Foundation
import Kafka
import Logging
import RiskEvents

/// Puts dead letters back on the input topic (`risk-worker replay`): one pass over the dead-letter topic up to its
/// end at the start, republishing the original key, value and headers of each selected dead letter with
/// `risk.replay.count` one higher (to its original partition when that is the target topic), at an optional rate,
/// each delivery confirmed by the broker.
///
/// Within one run no dead letter is sent twice: neither the same dead-letter record nor two dead letters of the same
/// original record (an at-least-once worker may dead-letter a record twice). Validation failures are held back unless
/// the filter names the `validation` source. The first delivery error stops the run; the failure carries the counts,
/// so the caller can say how many were sent.
public struct Replayer: Sendable {
    /// How to replay.
    public struct Options: Sendable, Hashable {
        /// The topic to republish to (the input topic, or `--to-topic`).
        public var targetTopic: String
        /// Print what would be sent, send nothing.
        public var dryRun: Bool
        /// At most this many records a second; nil: as fast as the broker confirms.
        public var rate: Rate?
        /// At most this many records sent together before waiting for their delivery reports.
        public var batchSize: Int
        /// How long the scan waits for progress before failing.
        public var stallTimeout: Duration

        /// Options to replay to `targetTopic`.
        public init(targetTopic: String, dryRun: Bool = false, rate: Rate? = nil, batchSize: Int = 500, stallTimeout: Duration = .seconds(60)) {
            self.targetTopic = targetTopic
            self.dryRun = dryRun
            self.rate = rate
            self.batchSize = max(1, batchSize)
            self.stallTimeout = stallTimeout
        }
    }

    /// A replay rate in records per second (`--rate 50/s`).
    public struct Rate: Sendable, Hashable, CustomStringConvertible {
        /// Records per second, more than zero.
        public let perSecond: Double

        /// A rate of `perSecond` records a second; nil unless positive and finite.
        public init?(perSecond: Double) {
            guard perSecond.isFinite, perSecond > 0 else { return nil }
            self.perSecond = perSecond
        }

        /// Reads `N/s`, `N/m` or a bare `N` (per second), N a positive number; nil when the text is none of these.
        public init?(parsing text: String) {
            let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
            var number = Substring(trimmed)
            var divisor = 1.0
            for (suffix, seconds) in [("/s", 1.0), ("/sec", 1.0), ("/m", 60.0), ("/min", 60.0)] where trimmed.hasSuffix(suffix) {
                number = trimmed.dropLast(suffix.count)
                divisor = seconds
            }
            guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let value = Double(number) else {
                return nil
            }
            self.init(perSecond: value / divisor)
        }

        /// The time between two records.
        public var interval: Duration { .seconds(1) / perSecond }

        /// `N/s`.
        public var description: String {
            perSecond == perSecond.rounded() ? "\(Int(perSecond))/s" : "\(perSecond)/s"
        }
    }

    /// The counts of a run, also reported as progress.
    public struct Summary: Sendable, Hashable, CustomStringConvertible {
        /// Offsets the scan spans (an upper bound of the records read).
        public var offsetsToRead: Int64 = 0
        /// Dead-letter records read.
        public var read = 0
        /// Records that are not readable dead letters (never sent).
        public var unreadable = 0
        /// Dead letters the filter selected.
        public var matched = 0
        /// Dead letters whose delivery the broker confirmed (0 in a dry run).
        public var sent = 0
        /// Dead letters a dry run would have sent.
        public var wouldSend = 0
        /// Selected validation failures held back (no `--source validation`).
        public var skippedValidation = 0
        /// Selected dead letters of an original record already sent in this run.
        public var skippedDuplicates = 0
        /// Whether this was a dry run.
        public var dryRun = false

        /// Selected dead letters not sent: validation failures held back and duplicates.
        public var skipped: Int { skippedValidation + skippedDuplicates }

        /// `matched 3, sent 2, skipped 1 (1 validation failure: add --source validation to replay them), …`.
        public var description: String {
            var parts = ["matched \(matched)", dryRun ? "would send \(wouldSend) (dry run, nothing sent)" : "sent \(sent)", "skipped \(skipped)"]
            var reasons: [String] = []
            if skippedValidation > 0 {
                reasons.append("\(skippedValidation) validation failure\(skippedValidation == 1 ? "" : "s"): add --source validation to replay them")
            }
            if skippedDuplicates > 0 {
                reasons.append("\(skippedDuplicates) of an original record already sent in this run")
            }
            if !reasons.isEmpty { parts[2] += " (" + reasons.joined(separator: "; ") + ")" }
            parts.append("read \(read) dead-letter record\(read == 1 ? "" : "s")")
            if unreadable > 0 { parts.append("\(unreadable) unreadable") }
            return parts.joined(separator: ", ")
        }
    }

    /// A dead letter selected for sending, and the record built from it.
    public struct Planned: Sendable, Hashable {
        /// The dead-letter record as scanned.
        public var entry: DeadLetterScan.Entry
        /// Its dead letter.
        public var info: DeadLetter.Info
        /// The record to republish.
        public var record: ProducerRecord
    }

    /// Why a run stopped, with the counts so far.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// What went wrong.
        public enum Reason: Sendable {
            /// The dead-letter topic could not be read (unknown topic or partition, broker problem).
            case scan(DeadLetterScan.Failure)
            /// The topic to republish to does not exist.
            case unknownTargetTopic(String)
            /// The topic to republish to is the dead-letter topic.
            case targetIsDeadLetterTopic(String)
            /// The broker refused or did not confirm a delivery (or the producer failed).
            case delivery(KafkaError)
            /// The run was cancelled.
            case cancelled
        }

        /// What went wrong.
        public var reason: Reason
        /// The counts when it stopped; `sent` is how many deliveries were confirmed.
        public var summary: Summary

        /// True when the arguments are at fault (exit code 2): an unknown topic or partition.
        public var isUsageError: Bool {
            switch reason {
            case .scan(let failure): failure.isUsageError
            case .unknownTargetTopic, .targetIsDeadLetterTopic: true
            case .delivery, .cancelled: false
            }
        }

        /// One line saying what went wrong.
        public var description: String {
            switch reason {
            case .scan(let failure): "\(failure)"
            case .unknownTargetTopic(let topic): "topic '\(topic)' does not exist"
            case .targetIsDeadLetterTopic(let topic): "cannot replay to the dead-letter topic '\(topic)' itself"
            case .delivery(let error): "delivery failed: \(error)"
            case .cancelled: "cancelled"
            }
        }
    }

    private let configuration: KafkaConfiguration
    private let deadLetterTopic: String
    private let filter: DeadLetterFilter
    private let options: Options
    private let logger: Logger
    /// Time since the replayer was made, on its clock.
    private let elapsed: @Sendable () -> Duration
    /// Sleeps until that much time has passed since the replayer was made, on its clock.
    private let sleepUntilElapsed: @Sendable (Duration) async throws -> Void

    /// A replay of the dead letters on `deadLetterTopic` that `filter` selects, paced by `clock`.
    public init<C: Clock>(
        configuration: KafkaConfiguration,
        deadLetterTopic: String,
        filter: DeadLetterFilter,
        options: Options,
        clock: C = ContinuousClock(),
        logger: Logger = Logger(label: "risk.replay")
    ) where C.Duration == Duration {
        self.configuration = configuration
        self.deadLetterTopic = deadLetterTopic
        self.filter = filter
        self.options = options
        self.logger = logger
        let origin = clock.now
        elapsed = { origin.duration(to: clock.now) }
        sleepUntilElapsed = { offset in try await clock.sleep(until: origin.advanced(by: offset), tolerance: nil) }
    }

    /// The record republishing a dead letter to `topic`: its original key, value and headers, the replay count
    /// header replaced by one holding the previous count plus one. Back on its original topic (which has
    /// `partitions` partitions) it goes to its original partition, as its producer chose it; elsewhere the
    /// partitioner places it by key.
    public static func republished(_ info: DeadLetter.Info, topic: String, partitions: Int = 0) -> ProducerRecord {
        var headers = info.originalHeaders.filter { $0.name != DeadLetter.Header.replayCount }
        headers.append(KafkaHeader(name: DeadLetter.Header.replayCount, text: String(info.replayCount + 1)))
        let original = info.original.topicPartition
        let partition = original.topic == topic && Int(original.partition) < partitions ? original.partition : nil
        return ProducerRecord(topic: topic, partition: partition, key: info.key, value: info.value, headers: headers)
    }

    /// Runs the replay: `onPlanned` sees each record before it is sent (in a dry run, instead of sending it),
    /// `onProgress` the counts as they change (after each batch read and each chunk sent); returns the final counts.
    public func run(
        onPlanned: (Planned) -> Void = { _ in },
        onProgress: (Summary) -> Void = { _ in }
    ) async throws(Failure) -> Summary {
        var summary = Summary()
        summary.dryRun = options.dryRun
        guard options.targetTopic != deadLetterTopic else {
            throw Failure(reason: .targetIsDeadLetterTopic(deadLetterTopic), summary: summary)
        }
        let scan: DeadLetterScan
        do {
            scan = try await DeadLetterScan.open(
                configuration: configuration, topic: deadLetterTopic, filter: filter, stallTimeout: options.stallTimeout, logger: logger
            )
        } catch {
            throw Failure(reason: .scan(error), summary: summary)
        }
        let targetPartitions: Int
        do {
            targetPartitions = try await checkTargetTopic()
        } catch {
            await scan.close()
            throw error
        }
        summary.offsetsToRead = scan.totalOffsets
        onProgress(summary)

        var producer: KafkaProducer?
        if !options.dryRun {
            var producerConfiguration = configuration
            // Fail a delivery the broker does not confirm in reasonable time, rather than librdkafka's 5 minutes.
            if producerConfiguration["message.timeout.ms"] == nil && producerConfiguration["delivery.timeout.ms"] == nil {
                producerConfiguration["message.timeout.ms"] = "30000"
            }
            do {
                producer = try KafkaProducer(configuration: producerConfiguration, logger: logger)
            } catch {
                await scan.close()
                throw Failure(reason: .delivery(Self.kafkaError(error)), summary: summary)
            }
        }

        var state = RunState(
            chunkSize: options.rate.map { max(1, min(options.batchSize, Int($0.perSecond / 10))) } ?? options.batchSize,
            targetPartitions: targetPartitions
        )
        do {
            try await scan.read { entries in
                try await process(entries, producer: producer, state: &state, summary: &summary, onPlanned: onPlanned, onProgress: onProgress)
                onProgress(summary)
            }
        } catch {
            await producer?.close()
            switch error {
            case let failure as Failure: throw Failure(reason: failure.reason, summary: summary)
            case let failure as DeadLetterScan.Failure: throw Failure(reason: .scan(failure), summary: summary)
            case is CancellationError: throw Failure(reason: .cancelled, summary: summary)
            default: throw Failure(reason: .scan(.kafka(Self.kafkaError(error))), summary: summary)
            }
        }
        await producer?.close()
        return summary
    }

    /// What a run remembers between batches.
    private struct RunState {
        /// Dead-letter records already handled, by partition and offset.
        var seenRecords: Set<TopicPartitionOffset> = []
        /// Original records already sent (or planned, in a dry run).
        var sentOriginals: Set<TopicPartitionOffset> = []
        /// When the next chunk may go, with a rate, as time since the replayer was made.
        var nextSend: Duration?
        /// Records sent together at most.
        let chunkSize: Int
        /// The target topic's partition count.
        let targetPartitions: Int

        init(chunkSize: Int, targetPartitions: Int) {
            self.chunkSize = chunkSize
            self.targetPartitions = targetPartitions
        }
    }

    /// Selects, dedupes and sends (or plans) one batch of scanned records.
    private func process(
        _ entries: [DeadLetterScan.Entry],
        producer: KafkaProducer?,
        state: inout RunState,
        summary: inout Summary,
        onPlanned: (Planned) -> Void,
        onProgress: (Summary) -> Void
    ) async throws {
        var planned: [Planned] = []
        for entry in entries {
            let position = TopicPartitionOffset(topic: deadLetterTopic, partition: entry.partition, offset: entry.offset)
            guard state.seenRecords.insert(position).inserted else { continue }
            summary.read += 1
            guard case .deadLetter(let info) = entry.content else {
                summary.unreadable += 1
                continue
            }
            guard filter.matches(info.deadLetter), filter.contains(partition: entry.partition, offset: entry.offset) else { continue }
            summary.matched += 1
            if info.deadLetter.source == .validation && !filter.includesValidation {
                summary.skippedValidation += 1
                continue
            }
            guard state.sentOriginals.insert(info.original).inserted else {
                summary.skippedDuplicates += 1
                continue
            }
            planned.append(Planned(entry: entry, info: info, record: Self.republished(info, topic: options.targetTopic, partitions: state.targetPartitions)))
        }
        guard let producer else {
            planned.forEach(onPlanned)
            summary.wouldSend += planned.count
            return
        }
        var start = planned.startIndex
        while start < planned.endIndex {
            let chunk = planned[start..<min(start + state.chunkSize, planned.endIndex)]
            start = chunk.endIndex
            if let rate = options.rate { try await pace(count: chunk.count, rate: rate, state: &state) }
            chunk.forEach(onPlanned)
            let results: [Result<DeliveryReport, KafkaError>]
            do {
                results = try await producer.send(chunk.map(\.record))
            } catch {
                throw Failure(reason: .delivery(Self.kafkaError(error)), summary: summary)
            }
            var firstError: KafkaError?
            for result in results {
                switch result {
                case .success: summary.sent += 1
                case .failure(let error): firstError = firstError ?? error
                }
            }
            if let firstError {
                throw Failure(reason: .delivery(firstError), summary: summary)
            }
            if start < planned.endIndex { onProgress(summary) }
        }
    }

    /// Waits until `count` more records may go at `rate`; time lost to a slow broker is not made up in a burst.
    private func pace(count: Int, rate: Rate, state: inout RunState) async throws {
        let now = elapsed()
        var at = state.nextSend ?? now
        if at < now { at = now }
        if now < at { try await sleepUntilElapsed(at) }
        state.nextSend = at + rate.interval * count
    }

    /// The target topic's partition count; throws when it does not exist or cannot be looked up.
    private func checkTargetTopic() async throws(Failure) -> Int {
        var summary = Summary()
        summary.dryRun = options.dryRun
        let topics: [String: Int]
        do {
            let admin = try KafkaAdmin(configuration: configuration, logger: logger)
            defer { admin.close() }
            topics = try await admin.topics()
        } catch {
            throw Failure(reason: .delivery(Self.kafkaError(error)), summary: summary)
        }
        guard let partitions = topics[options.targetTopic] else {
            throw Failure(reason: .unknownTargetTopic(options.targetTopic), summary: summary)
        }
        return partitions
    }

    private static func kafkaError(_ error: any Error) -> KafkaError {
        (error as? KafkaError) ?? KafkaError(code: -1, message: "\(error)")
    }
}
