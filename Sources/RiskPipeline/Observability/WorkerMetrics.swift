import Foundation
import Kafka
import Metrics
import RiskEvents

/// The worker's swift-metrics instruments; the names are the Prometheus names dashboards and alerts rely on.
public struct WorkerMetrics: Sendable {
    /// Records taken from the input topic.
    public let consumed = Counter(label: "risk_records_consumed_total")
    /// Scored events committed to the output topic.
    public let scored = Counter(label: "risk_events_scored_total")
    /// Records whose externalId's scored event was already committed: nothing produced.
    public let duplicates = Counter(label: "risk_duplicates_total")
    /// Records that found their externalId claimed by another instance and waited for it.
    public let claimWaits = Counter(label: "risk_claim_waits_total")
    /// Claims taken over after another instance's lease expired (the only way a second paid call can happen).
    public let claimTakeovers = Counter(label: "risk_claim_takeovers_total")
    /// Stale claims whose record the group had committed past (its owner stopped before marking the entry): the entry
    /// was marked for it and nothing was produced or paid.
    public let claimsSettled = Counter(label: "risk_claims_settled_total")
    /// Claims this instance held that the store no longer showed as its own at a renewal (another took them over).
    public let claimsLost = Counter(label: "risk_claims_lost_total")
    private let cacheHits = Counter(label: "risk_number_scoring_cache_total", dimensions: [("result", "hit")])
    private let cacheMisses = Counter(label: "risk_number_scoring_cache_total", dimensions: [("result", "miss")])
    /// Events being processed (taken from the consumer, output not yet handed to the producer).
    public let inFlight = Gauge(label: "risk_in_flight")
    /// 1 while consumption is paused by an account-level provider error, else 0.
    public let paused = Gauge(label: "risk_paused")
    // Made once: looking a labelled metric up in the factory on every request showed in profiles.
    private let phoneRiskRequests = Metrics.Timer(
        label: "risk_provider_request_duration_seconds", dimensions: [("provider", FailureSource.phoneRisk.rawValue)])
    private let numberScoringRequests = Metrics.Timer(
        label: "risk_provider_request_duration_seconds", dimensions: [("provider", FailureSource.numberScoring.rawValue)])

    private let cycles = Metrics.Timer(label: "risk_emit_cycle_duration_seconds")
    private let waiting = Metrics.Timer(label: "risk_event_stage_duration_seconds", dimensions: [("stage", Stage.waiting.rawValue)])
    private let claiming = Metrics.Timer(label: "risk_event_stage_duration_seconds", dimensions: [("stage", Stage.claiming.rawValue)])
    private let scoring = Metrics.Timer(label: "risk_event_stage_duration_seconds", dimensions: [("stage", Stage.scoring.rawValue)])
    private let emitting = Metrics.Timer(label: "risk_event_stage_duration_seconds", dimensions: [("stage", Stage.emitting.rawValue)])

    /// The stages of a record's time in the worker, from its input record's timestamp to its output being produced.
    enum Stage: String, Sendable {
        /// From the input record's timestamp to the start of its processing: the broker, the fetch, the worker's
        /// queue (and, across hosts, the difference of their clocks).
        case waiting
        /// From then to holding its externalId's claim: waiting for another record of the externalId in this process,
        /// then the claim in the store (waits for another instance's claim included).
        case claiming
        /// From then to its output: provider calls and store writes, retries and provider pauses included.
        case scoring
        /// From the end of its processing to the emit cycle producing its output: its partition's order (earlier
        /// records still in flight) and the cycle running before.
        case emitting
    }

    /// A metrics set on the process's bootstrapped metrics system.
    public init() {}

    /// Counts one look into the number-scoring cache.
    public func numberScoringCache(hit: Bool) {
        (hit ? cacheHits : cacheMisses).increment()
    }

    /// Counts one committed dead letter.
    public func deadLettered(source: FailureSource, code: String) {
        Counter(label: "risk_dead_letters_total", dimensions: [("source", source.rawValue), ("code", code)]).increment()
    }

    /// Counts one retried provider call.
    public func retried(_ source: FailureSource) {
        Counter(label: "risk_provider_retries_total", dimensions: [("provider", source.rawValue)]).increment()
    }

    /// Records how long one provider request took.
    public func providerRequest(_ source: FailureSource, duration: Duration) {
        switch source {
        case .phoneRisk: phoneRiskRequests.record(duration: duration)
        case .numberScoring: numberScoringRequests.record(duration: duration)
        case .validation:
            Metrics.Timer(label: "risk_provider_request_duration_seconds", dimensions: [("provider", source.rawValue)])
                .record(duration: duration)
        }
    }

    /// Sets a provider's breaker state (0 closed, 1 half-open, 2 open).
    public func providerState(_ source: FailureSource, _ state: Int) {
        Gauge(label: "risk_provider_state", dimensions: [("provider", source.rawValue)]).record(state)
    }

    /// Sets a provider's current rate limit in calls a second (0: none).
    public func providerRateLimit(_ source: FailureSource, _ limit: Double) {
        Gauge(label: "risk_provider_rate_limit", dimensions: [("provider", source.rawValue)]).record(limit)
    }

    /// Counts one call the provider throttled.
    public func throttled(_ source: FailureSource) {
        Counter(label: "risk_provider_throttled_total", dimensions: [("provider", source.rawValue)]).increment()
    }

    /// Counts a transaction (exactly-once) or an acknowledged batch (at-least-once) by its result.
    public func transaction(committed: Bool) {
        Counter(label: "risk_transactions_total", dimensions: [("result", committed ? "committed" : "aborted")]).increment()
    }

    /// Records how long one committed emit cycle took, from producing its outputs to its commit returning.
    public func emitCycle(duration: Duration) {
        cycles.record(duration: duration)
    }

    /// Records how long one record spent in `stage`.
    func stage(_ stage: Stage, duration: Duration) {
        let timer = switch stage {
        case .waiting: waiting
        case .claiming: claiming
        case .scoring: scoring
        case .emitting: emitting
        }
        timer.record(duration: max(duration, .zero))
    }

    /// Records how long `record` waited from its timestamp until `now`, when its processing starts.
    func waited(_ record: KafkaRecord, now: Date = Date()) {
        guard let timestamp = record.timestampMilliseconds, timestamp > 0 else { return }
        stage(.waiting, duration: .milliseconds(Int64(now.timeIntervalSince1970 * 1000) - timestamp))
    }

    /// Sets a partition's consumer lag (high watermark minus the next offset to process).
    public func lag(_ partition: TopicPartition, _ lag: Int64) {
        Gauge(label: "risk_consumer_lag", dimensions: [("topic", partition.topic), ("partition", String(partition.partition))])
            .record(lag)
    }
}
