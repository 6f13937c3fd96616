import Foundation
import IdempotencyStore
import Kafka
import Logging
import RiskPolicy
import ServiceLifecycle

/// `risk-worker run`: consumes lifecycle events, scores them, and emits scored events and dead letters, until
/// a graceful shutdown (SIGTERM, SIGINT) drains the work in flight and commits it.
///
/// Each session owns one consumer and one producer. When a transaction has to be aborted (or, at least once, a
/// delivery fails), the session ends and a new one starts from the committed offsets; a fenced or fatally broken
/// producer stops the worker with an error.
public struct ScoringWorker: Service {
    /// The configuration used (topics, Kafka, delivery, in-flight limit, drain timeout).
    public let settings: WorkerConfiguration
    private let scorer: EventScorer
    private let store: any IdempotencyStore
    private let providers: ProviderHealth
    private let emitted: EmittedIDs
    private let retries: RetryTable
    private let metrics: WorkerMetrics
    private let health: WorkerHealth
    private let logger: Logger

    /// A worker for `settings`, scoring with `scorer`, claiming externalIds in `store`, waiting on `providers`,
    /// deduplicating by `emitted`, retrying by `retries`.
    public init(
        settings: WorkerConfiguration,
        scorer: EventScorer,
        store: any IdempotencyStore,
        providers: ProviderHealth,
        emitted: EmittedIDs,
        retries: RetryTable = .standard,
        metrics: WorkerMetrics = WorkerMetrics(),
        health: WorkerHealth,
        logger: Logger
    ) {
        self.settings = settings
        self.scorer = scorer
        self.store = store
        self.providers = providers
        self.emitted = emitted
        self.retries = retries
        self.metrics = metrics
        self.health = health
        self.logger = logger
    }

    /// The consumer settings: the group, static membership if set, cooperative-sticky assignment, reading from
    /// the start when the group has no offsets, only committed input records, and fetches held at most 100 ms
    /// (partitions resumed after backpressure wait for the fetch in progress; librdkafka's default is 500 ms).
    public static func consumerConfiguration(_ settings: WorkerConfiguration) -> KafkaConfiguration {
        var configuration = KafkaConfiguration(bootstrapServers: settings.brokers)
        configuration.merge([
            "group.id": settings.groupID,
            "partition.assignment.strategy": "cooperative-sticky",
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
            "fetch.wait.max.ms": "100",
        ])
        configuration.merge(settings.kafkaProperties)
        if let instance = settings.groupInstanceID { configuration.groupInstanceID = instance }
        return configuration
    }

    /// The producer settings: idempotent; transactional with this instance's stable id in exactly-once mode.
    public static func producerConfiguration(_ settings: WorkerConfiguration) -> KafkaConfiguration {
        var configuration = KafkaConfiguration(bootstrapServers: settings.brokers)
        configuration.merge(["linger.ms": "5", "enable.idempotence": "true"])
        configuration.merge(settings.kafkaProperties.filter { !consumerOnlyProperties.contains($0.key) })
        if settings.delivery == .exactlyOnce { configuration.transactionalID = transactionalID(settings) }
        return configuration
    }

    /// This instance's transactional id: `KAFKA_TRANSACTIONAL_ID`, else the group instance id, else group and host.
    public static func transactionalID(_ settings: WorkerConfiguration) -> String {
        if let id = settings.transactionalID { return id }
        if let instance = settings.groupInstanceID { return "\(settings.groupID)-\(instance)" }
        return "\(settings.groupID)-\(ProcessInfo.processInfo.hostName)"
    }

    /// The owner of this instance's claims in the store: its transactional id (unique among the instances, as
    /// fencing requires); at least once, with the process id added, since no broker enforces that uniqueness.
    public static func claimOwner(_ settings: WorkerConfiguration) -> String {
        let id = transactionalID(settings)
        return settings.delivery == .exactlyOnce ? id : "\(id)-\(ProcessInfo.processInfo.processIdentifier)"
    }

    private static let consumerOnlyProperties: Set<String> = [
        "group.id", "group.instance.id", "partition.assignment.strategy", "auto.offset.reset", "isolation.level",
        "session.timeout.ms", "max.poll.interval.ms", "heartbeat.interval.ms", "enable.auto.commit",
        "enable.auto.offset.store", "fetch.queue.backoff.ms", "fetch.wait.max.ms", "auto.commit.interval.ms", "group.protocol",
    ]

    /// Runs sessions until a graceful shutdown, restarting one that must start again from the committed offsets
    /// after a backoff delay (by the retry table; it starts over after a session that lasted a while).
    public func run() async throws {
        health.setRunning(true)
        defer { health.setRunning(false) }
        logger.info("worker starting", metadata: ["settings": "\(settings)"])
        var backoff = retries.sessionRestarts.start()
        while true {
            let started = ContinuousClock.now
            do {
                try await runSession()
                logger.info("worker stopped")
                return
            } catch OutputEmitter.Failure.restartFromCommitted(let error) {
                if ContinuousClock.now - started >= RetryTable.sessionRestartReset { backoff.reset() }
                let delay = backoff.nextDelay() ?? retries.sessionRestarts.cap
                logger.warning(
                    "session ended, starting again from the committed offsets",
                    metadata: ["error": "\(error)", "delay": "\(delay)"])
                do {
                    try await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
                } catch {
                    logger.info("worker stopped")
                    return  // shut down or cancelled while waiting: nothing is in flight
                }
            }
        }
    }

    private func runSession() async throws {
        let consumer = try KafkaConsumer(
            configuration: Self.consumerConfiguration(settings),
            options: .init(
                bufferCapacity: max(1_000, settings.maxInFlight * 2),
                maxBatchSize: min(500, settings.maxInFlight),
                revocationTimeout: settings.drainTimeout + .seconds(5)
            ),
            logger: logger
        )
        let producer: KafkaProducer
        do {
            producer = try KafkaProducer(configuration: Self.producerConfiguration(settings), logger: logger)
        } catch {
            await consumer.close()
            throw error
        }
        do {
            if settings.delivery == .exactlyOnce { try await producer.initTransactions() }
            try await runPipeline(consumer: consumer, producer: producer)
        } catch {
            health.setConsuming(false)
            await consumer.close()
            await producer.close()
            throw error
        }
        health.setConsuming(false)
        await consumer.close()
        await producer.close()
    }

    /// The concurrent parts of a session, each tagged so that the first to end is known.
    private enum SessionPart: String, Sendable {
        case emitter, processing, lag, providerHealth, claimRenewals, events
    }

    /// A session part that ended before the consumer's events: a failure of the session, not a shutdown.
    struct SessionPartEnded: Error, CustomStringConvertible {
        let part: String
        var description: String { "the session's \(part) ended before a shutdown" }
    }

    private func runPipeline(consumer: KafkaConsumer, producer: KafkaProducer) async throws {
        let claims = ExternalIdClaims(
            store: store, owner: Self.claimOwner(settings), lease: settings.claimLease, waits: retries.claimWaits, metrics: metrics,
            logger: logger,
            committedOffset: { partition in
                let offset = try await consumer.committed([partition]).first?.offset ?? KafkaOffset.invalid
                return offset >= 0 ? offset : nil
            })
        do {
            try await runPipeline(consumer: consumer, producer: producer, claims: claims)
        } catch {
            await claims.abandonAll()
            throw error
        }
        await claims.abandonAll()
    }

    private func runPipeline(consumer: KafkaConsumer, producer: KafkaProducer, claims: ExternalIdClaims) async throws {
        let emitter = OutputEmitter(
            sink: KafkaOutputSink(producer: producer, consumer: consumer), delivery: settings.delivery, emitted: emitted,
            claims: claims, metrics: metrics, logger: logger, commitRetry: retries.transactionCommits)
        let processor = RecordProcessor(
            scorer: scorer, providers: providers, claims: claims, outputTopic: settings.outputTopic,
            deadLetterTopic: settings.deadLetterTopic, storeRetry: retries.storeFailures, metrics: metrics, logger: logger)
        let (works, workQueue) = AsyncStream.makeStream(of: Work.self)
        let coordinator = WorkerCoordinator(
            flow: consumer, emitter: emitter, maxInFlight: settings.maxInFlight, metrics: metrics, logger: logger,
            start: { workQueue.yield($0) },
            discarded: { holding in Task { await claims.discarded(holding) } }
        )
        try consumer.subscribe(topics: [settings.inputTopic])
        health.setConsuming(true)
        let revocationBound = settings.drainTimeout
        let providers = self.providers
        try await withThrowingTaskGroup(of: SessionPart.self) { group in
            group.addTask {
                try await emitter.run()
                return .emitter
            }
            group.addTask {
                await withDiscardingTaskGroup { running in
                    for await work in works {
                        running.addTask {
                            guard let output = await processor.process(work) else { return }
                            await coordinator.finished(work, output: output, at: .now)
                        }
                    }
                    running.cancelAll()
                }
                return .processing
            }
            group.addTask {
                await reportLag(consumer: consumer, coordinator: coordinator)
                return .lag
            }
            group.addTask {
                await claims.renewUntilCancelled()
                return .claimRenewals
            }
            group.addTask {
                for await paused in await providers.pauses() {
                    await coordinator.setProvidersPaused(paused)
                }
                return .providerHealth
            }
            group.addTask {
                do {
                    try await cancelWhenGracefulShutdown {
                        for try await event in consumer.events {
                            switch event {
                            case .records(let records):
                                await coordinator.accept(records)
                            case .partitionsAssigned(let partitions):
                                await coordinator.assigned(partitions)
                            case .partitionsRevoked(let revocation):
                                await coordinator.revoked(
                                    revocation.partitions, lost: revocation.isLost, deadline: .now + revocationBound)
                                // The next owner of these partitions may take their claims at once.
                                await claims.abandon(revocation.partitions)
                                revocation.complete()
                            }
                        }
                    }
                } catch is CancellationError {
                    // Graceful shutdown: fall through to the drain.
                }
                return .events
            }
            // The consumer's events end at a shutdown; any other part ending first is a failure.
            let first = try await group.next()
            if let first, first != .events {
                group.cancelAll()
                throw SessionPartEnded(part: first.rawValue)
            }
            let inFlight = await coordinator.inFlightCount
            logger.info("shutting down: draining work in flight", metadata: ["inFlight": "\(inFlight)"])
            let drained = await coordinator.drain(until: .now + settings.drainTimeout)
            if !drained {
                let left = await coordinator.inFlightCount
                logger.warning("drain timeout: abandoning unfinished work uncommitted", metadata: ["inFlight": "\(left)"])
            }
            await emitter.flush()
            workQueue.finish()
            emitter.stop()
            group.cancelAll()
            try await group.waitForAll()
        }
    }

    /// Publishes each owned partition's lag (high watermark minus the consumer's position) every few seconds.
    private func reportLag(consumer: KafkaConsumer, coordinator: WorkerCoordinator) async {
        while !Task.isCancelled {
            let owned = await coordinator.ownedPartitions
            if let positions = try? consumer.position(owned) {
                for position in positions {
                    let partition = position.topicPartition
                    guard let high = consumer.cachedWatermarks(partition)?.high, position.offset >= 0 else { continue }
                    metrics.lag(partition, max(0, high - position.offset))
                }
            }
            try? await Task.sleep(for: .seconds(5))
        }
    }
}
