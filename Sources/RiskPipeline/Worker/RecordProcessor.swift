import Foundation
import IdempotencyStore
import Kafka
import Logging
import RiskEvents
import RiskPolicy

/// What one input record comes to: decoding and validation, then the claim on its externalId (one event per
/// externalId at a time within the process, and across the instances sharing the store), then scoring (waiting while
/// the providers are paused, retrying store failures), then the output to emit. It never calls back into the
/// coordinator: the session hands the output on.
struct RecordProcessor: Sendable {
    let scorer: EventScorer
    let providers: ProviderHealth
    let claims: ExternalIdClaims
    let locks: ExternalIdLock
    let outputTopic: String
    let deadLetterTopic: String
    let storeRetry: RetrySchedule
    let metrics: WorkerMetrics
    let logger: Logger
    private let encoder = ScoredEventEncoder()

    /// A processor scoring with `scorer`, claiming in `claims`, asking `providers` before calls, timing its stages in `metrics`.
    init(
        scorer: EventScorer,
        providers: ProviderHealth,
        claims: ExternalIdClaims,
        outputTopic: String,
        deadLetterTopic: String,
        storeRetry: RetrySchedule,
        metrics: WorkerMetrics,
        logger: Logger
    ) {
        self.scorer = scorer
        self.providers = providers
        self.claims = claims
        self.locks = ExternalIdLock()
        self.outputTopic = outputTopic
        self.deadLetterTopic = deadLetterTopic
        self.storeRetry = storeRetry
        self.metrics = metrics
        self.logger = logger
    }

    /// The output of `work`'s record, or nil when the task was cancelled (the record is abandoned, never committed).
    func process(_ work: Work) async -> WorkOutput? {
        metrics.waited(work.record)
        let started = ContinuousClock.now
        let record = work.record
        let event: LifecycleEvent
        do {
            event = try LifecycleEvent.decode(value: record.value)
        } catch {
            let deadLetter = DeadLetter(error, failedAt: Date())
            logger.info("invalid event", metadata: ["code": "\(error.code)", "partition": "\(record.partition)", "offset": "\(record.offset)"])
            return .deadLetter(deadLetter.record(for: record, topic: deadLetterTopic), source: .validation, code: error.code, claim: nil)
        }
        do {
            try await locks.acquire(event.externalId)
        } catch {
            return nil
        }
        let output = try? await scoreHoldingLock(event, work: work, started: started)
        await locks.release(event.externalId)
        return output
    }

    private func scoreHoldingLock(_ event: LifecycleEvent, work: Work, started: ContinuousClock.Instant) async throws -> WorkOutput {
        let holding = ClaimHolding(
            externalId: event.externalId, work: work.id, partition: work.record.topicPartition, offset: work.record.offset)
        var storeBackoff = storeRetry.start()
        // The claim first: no paid call without it, also while the store cannot be reached.
        var claimed: StoredScoring?
        while claimed == nil {
            do {
                switch try await claims.take(holding) {
                case .granted(let entry): claimed = entry
                case .emitted, .deadLetteredElsewhere:
                    metrics.stage(.claiming, duration: .now - started)
                    return .duplicate(claim: nil)
                }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                logger.error(
                    "could not take the claim (idempotency store or the group's offsets); retrying the event", metadata: ["error": "\(error)"])
                try await Task.sleep(for: storeBackoff.nextDelay() ?? storeRetry.cap)
            }
        }
        let claimedAt = ContinuousClock.now
        metrics.stage(.claiming, duration: claimedAt - started)
        do {
            let output = try await scoreClaimed(event, entry: claimed, holding: holding, work: work)
            metrics.stage(.scoring, duration: .now - claimedAt)
            return output
        } catch {
            await claims.discarded(holding)
            throw error
        }
    }

    private func scoreClaimed(_ event: LifecycleEvent, entry: StoredScoring?, holding: ClaimHolding, work: Work) async throws -> WorkOutput {
        var storeBackoff = storeRetry.start()
        var retryingAfterPause = false
        var entry = entry
        while true {
            // Work that met the pause itself goes on when `failed` returns (its probe, or the pause's end).
            if !retryingAfterPause { try await providers.waitUntilOpen() }
            retryingAfterPause = false
            let outcome: EventScorer.Outcome
            do {
                // The claimed entry on the first try; read again after a pause or a store failure.
                if let claimed = entry {
                    entry = nil
                    outcome = try await scorer.score(event, stored: claimed)
                } else {
                    outcome = try await scorer.score(event)
                }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                logger.error("idempotency store failed; retrying the event", metadata: ["error": "\(error)"])
                try await Task.sleep(for: storeBackoff.nextDelay() ?? storeRetry.cap)
                continue
            }
            if case .accountLevel = outcome {} else { await providers.succeeded() }
            switch outcome {
            case .accountLevel(let source, let code, let message):
                try await providers.failed(source, code: code, message: message, by: work.id)
                retryingAfterPause = true
                continue
            case .scored(let phoneRisk, let numberScoring, let partial, let verified, let fetchedAt):
                do {
                    let value = try encoder.encode(
                        event, phoneRisk: phoneRisk, numberScoring: numberScoring, partial: partial, verified: verified,
                        numberScoringFetchedAt: fetchedAt)
                    return .scored(ScoredEventEncoder.record(for: work.record, value: value, topic: outputTopic), claim: holding)
                } catch {
                    let source: FailureSource = error.member == "phoneRisk" ? .phoneRisk : .numberScoring
                    let deadLetter = DeadLetter(
                        source: source, code: "invalid-response", message: error.description, attempts: 1, failedAt: Date())
                    return .deadLetter(
                        deadLetter.record(for: work.record, topic: deadLetterTopic), source: source, code: "invalid-response", claim: holding)
                }
            case .alreadyEmitted:
                return .duplicate(claim: holding)
            case .deadLetter(let deadLetter):
                logger.info(
                    "dead-lettering an event",
                    metadata: [
                        "source": "\(deadLetter.source.rawValue)", "code": "\(deadLetter.code)",
                        "phone": "\(event.phoneNumber.masked)", "attempts": "\(deadLetter.attempts)",
                    ])
                return .deadLetter(
                    deadLetter.record(for: work.record, topic: deadLetterTopic), source: deadLetter.source, code: deadLetter.code,
                    claim: holding)
            }
        }
    }
}
