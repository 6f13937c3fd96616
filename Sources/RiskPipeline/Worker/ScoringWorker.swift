import Foundation
import IdempotencyStore
import Kafka
import Logging
import RiskEvents
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
    private let pause: ProviderPause
    private let store: any IdempotencyStore
    private let metrics: WorkerMetrics
    private let health: WorkerHealth
    private let logger: Logger
    private let encoder = ScoredEventEncoder()
    private let locks = ExternalIdLock()

    /// A worker for `settings`, scoring with `scorer` and its `store`, pausing through `pause`.
    public init(
        settings: WorkerConfiguration,
        scorer: EventScorer,
        pause: ProviderPause,
        store: any IdempotencyStore,
        metrics: WorkerMetrics = WorkerMetrics(),
        health: WorkerHealth,
        logger: Logger
    ) {
        self.settings = settings
        self.scorer = scorer
        self.pause = pause
        self.store = store
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

    private static let consumerOnlyProperties: Set<String> = [
        "group.id", "group.instance.id", "partition.assignment.strategy", "auto.offset.reset", "isolation.level",
        "session.timeout.ms", "max.poll.interval.ms", "heartbeat.interval.ms", "enable.auto.commit",
        "enable.auto.offset.store", "fetch.queue.backoff.ms", "fetch.wait.max.ms", "auto.commit.interval.ms", "group.protocol",
    ]

    /// Runs sessions until a graceful shutdown, restarting one that must start again from the committed offsets.
    public func run() async throws {
        health.setRunning(true)
        defer { health.setRunning(false) }
        logger.info("worker starting", metadata: ["settings": "\(settings)"])
        while true {
            do {
                try await runSession()
                logger.info("worker stopped")
                return
            } catch OutputEmitter.Failure.restartFromCommitted(let error) {
                logger.warning("session ended, starting again from the committed offsets", metadata: ["error": "\(error)"])
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

    private func runPipeline(consumer: KafkaConsumer, producer: KafkaProducer) async throws {
        let emitter = OutputEmitter(
            producer: producer, consumer: consumer, delivery: settings.delivery, store: store, metrics: metrics, logger: logger)
        let (works, workQueue) = AsyncStream.makeStream(of: Work.self)
        let coordinator = WorkerCoordinator(
            consumer: consumer, emitter: emitter, maxInFlight: settings.maxInFlight, metrics: metrics, logger: logger,
            start: { workQueue.yield($0) }
        )
        try consumer.subscribe(topics: [settings.inputTopic])
        health.setConsuming(true)
        let revocationBound = settings.drainTimeout
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await emitter.run() }
            group.addTask {
                await withDiscardingTaskGroup { running in
                    for await work in works {
                        running.addTask { await process(work, coordinator: coordinator) }
                    }
                    running.cancelAll()
                }
            }
            group.addTask { await reportLag(consumer: consumer, coordinator: coordinator) }
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
                                revocation.complete()
                            }
                        }
                    }
                } catch is CancellationError {
                    // Graceful shutdown: fall through to the drain.
                }
            }
            // The first task to end is the event loop (shutdown); any other ending first is a failure.
            try await group.next()
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

    /// Processes one record: validation, scoring (one event per externalId at a time), output.
    private func process(_ work: Work, coordinator: WorkerCoordinator) async {
        let record = work.record
        let output: WorkOutput
        do {
            let event = try LifecycleEvent.decode(value: record.value)
            do {
                output = try await score(event, work: work, coordinator: coordinator)
            } catch {
                return  // cancelled: abandoned, never committed
            }
        } catch {
            let deadLetter = DeadLetter(error, failedAt: Date())
            logger.info("invalid event", metadata: ["code": "\(error.code)", "partition": "\(record.partition)", "offset": "\(record.offset)"])
            output = .deadLetter(deadLetter.record(for: record, topic: settings.deadLetterTopic), source: .validation, code: error.code)
        }
        await coordinator.finished(work, output: output)
    }

    private func score(_ event: LifecycleEvent, work: Work, coordinator: WorkerCoordinator) async throws -> WorkOutput {
        try await locks.acquire(event.externalId)
        do {
            let output = try await scoreHoldingLock(event, work: work, coordinator: coordinator)
            await locks.release(event.externalId)
            return output
        } catch {
            await locks.release(event.externalId)
            throw error
        }
    }

    private func scoreHoldingLock(_ event: LifecycleEvent, work: Work, coordinator: WorkerCoordinator) async throws -> WorkOutput {
        var storeBackoff = RetrySchedule.pauseProbes.start()
        var retryingAfterPause = false
        while true {
            // Work that met the pause itself goes on when `failed` returns (its probe, or the pause's end).
            if !retryingAfterPause { try await pause.waitUntilOpen() }
            retryingAfterPause = false
            let outcome: EventScorer.Outcome
            do {
                outcome = try await scorer.score(event)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                logger.error("idempotency store failed; retrying the event", metadata: ["error": "\(error)"])
                try await Task.sleep(for: storeBackoff.nextDelay() ?? .seconds(60))
                continue
            }
            if case .accountLevel = outcome {} else if await pause.succeeded() {
                logger.info("providers answer again: resuming consumption")
                await coordinator.setAccountPaused(false)
            }
            switch outcome {
            case .accountLevel(let source, let code, let message):
                await coordinator.setAccountPaused(true)
                try await pause.failed(ProviderPause.Reason(source: source, code: code, message: message), by: work.id)
                retryingAfterPause = true
                continue
            case .scored(let phoneRisk, let numberScoring, let partial, let verified):
                do {
                    let value = try encoder.encode(
                        event, phoneRisk: phoneRisk, numberScoring: numberScoring, partial: partial, verified: verified)
                    let record = ScoredEventEncoder.record(for: work.record, value: value, topic: settings.outputTopic)
                    return .scored(record, externalId: event.externalId)
                } catch {
                    let source: ErrorSource = error.member == "phoneRisk" ? .phoneRisk : .numberScoring
                    let deadLetter = DeadLetter(
                        source: source, code: "invalid-response", message: error.description, attempts: 1, failedAt: Date())
                    return .deadLetter(deadLetter.record(for: work.record, topic: settings.deadLetterTopic), source: source, code: "invalid-response")
                }
            case .alreadyEmitted:
                return .duplicate
            case .deadLetter(let deadLetter):
                logger.info(
                    "dead-lettering an event",
                    metadata: [
                        "source": "\(deadLetter.source.rawValue)", "code": "\(deadLetter.code)",
                        "phone": "\(event.phoneNumber.masked)", "attempts": "\(deadLetter.attempts)",
                    ])
                return .deadLetter(
                    deadLetter.record(for: work.record, topic: settings.deadLetterTopic), source: deadLetter.source, code: deadLetter.code)
            }
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
