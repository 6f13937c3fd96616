import ArgumentParser
import Foundation
import IdempotencyStore
import Logging
import Metrics
import Prometheus
import RiskPipeline
import ScoringAPI
import ServiceLifecycle

/// `risk-worker run`: scores lifecycle events until SIGTERM or SIGINT.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Consumes lifecycle events, scores them with both providers, and emits scored events and dead letters."
    )

    @OptionGroup(title: "Settings (each also an environment variable)")
    var settingFlags: SettingFlags

    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    @Flag(help: "Plain text logs instead of JSON lines.")
    var plainLogs = false

    func run() async throws {
        MallocArenas.limit()
        let settings = try settingFlags.load()
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw usageError("--log-level: '\(logLevel)' is not trace, debug, info, notice, warning, error or critical")
        }
        let plain = plainLogs
        LoggingSystem.bootstrap { label in
            if plain {
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
            return JSONLogHandler(label: label, level: level)
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "risk-worker")

        let store: any IdempotencyStore
        do {
            // Concurrent events' reads and writes share batch statements.
            store = BatchedIdempotencyStore(try await settings.idempotencyStore.open(logger: logger))
        } catch {
            logger.critical("cannot open the idempotency store", metadata: ["store": "\(settings.idempotencyStore)", "error": "\(error)"])
            throw ExitCode(1)
        }
        let providers = ProviderConnections(settings: settings.providers, poolSize: settings.worker.maxInFlight + 16, requestTimeout: settings.providerTimeout)
        let metrics = WorkerMetrics()
        let retries = settings.retries
        let providerHealth = ProviderHealth(probes: retries.pauseProbes, flow: settings.flow, metrics: metrics, logger: logger)
        let health = WorkerHealth(providers: providerHealth)
        let emitted = EmittedIDs(store: store, logger: logger)
        let batcher = NumberScoringBatcher(client: providers.numberScoring, maxLinger: settings.numberScoringLinger)
        let scorer = EventScorer(
            providers: EventScorer.Providers.clients(phoneRisk: providers.phoneRisk, numberScoring: batcher).measured(by: metrics),
            store: store,
            emitted: emitted,
            health: providerHealth,
            numberScoringCacheTTL: settings.numberScoringCacheTTL,
            metrics: metrics,
            policy: settings.errorPolicy,
            retry: retries.providerCalls,
            maxElapsed: retries.providerCallsMaxElapsed,
            retried: { metrics.retried($0) }
        )
        let worker = ScoringWorker(
            settings: settings.worker, scorer: scorer, store: store, providers: providerHealth, emitted: emitted, retries: retries,
            metrics: metrics, health: health, logger: logger)
        let retention = IdempotencyRetention(store: store, clock: ContinuousClock(), logger: logger)
        let endpoints = HealthEndpoints(registry: registry, health: health).application(port: settings.metricsPort, logger: logger)
        // Shutdown runs in reverse order: the worker drains first, the endpoints answer until the end.
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: endpoints), .init(service: retention), .init(service: worker)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        var failure: (any Error)?
        do {
            try await group.run()
        } catch {
            failure = error
            logger.critical("worker failed", metadata: ["error": "\(error)"])
        }
        await providers.shutdown()
        try? await store.close()
        if failure != nil { throw ExitCode(1) }
    }
}
