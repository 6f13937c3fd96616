import IdempotencyStore
import Kafka
import Logging
import RiskPolicy
import Synchronization

/// This instance's claims on externalIds in the shared store, so that one instance at a time pays for an externalId
/// and only that instance emits its output.
///
/// A record takes the claim before any paid call (``take(_:)``); one finding another instance's live claim waits,
/// looking again by ``RetryTable/claimWaits``, until the claim ends (committed: the record produces nothing) or
/// expires (it is taken over). Held claims are renewed every third of the lease (``renewUntilCancelled()``); they
/// end when their records' outputs are committed (``committed(_:)``), or are released when their work is
/// abandoned (``discarded(_:)``, ``abandon(_:)``, ``abandonAll()``). The ``ClaimLedger`` value holds the bookkeeping.
final class ExternalIdClaims: Sendable {
    /// What taking a claim came to.
    enum Taken: Sendable {
        /// The claim is this instance's: go on with the entry as it stands.
        case granted(StoredScoring)
        /// The externalId's scored event is committed: produce nothing.
        case emitted
        /// The instance whose claim this record waited for committed a dead letter for it: produce nothing.
        case deadLetteredElsewhere
    }

    /// The owner written into the store: this instance's stable id.
    let owner: String
    /// How long a claim lasts without renewal.
    let lease: Duration
    private let store: any IdempotencyStore
    private let waits: RetrySchedule
    private let metrics: WorkerMetrics
    private let logger: Logger
    private let sleep: @Sendable (Duration) async throws -> Void
    private let ledger = Mutex(ClaimLedger())

    /// Claims in `store` for `owner`, each lasting `lease` unless renewed, looking again at a held one by `waits`.
    init(
        store: any IdempotencyStore, owner: String, lease: Duration, waits: RetrySchedule, metrics: WorkerMetrics, logger: Logger,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.store = store
        self.owner = owner
        self.lease = lease
        self.waits = waits
        self.metrics = metrics
        self.logger = logger
        self.sleep = sleep
    }

    /// Takes the claim for `holding`'s record, waiting while another instance holds a live one; throws when the store
    /// fails (nothing taken) or the task is cancelled.
    func take(_ holding: ClaimHolding) async throws -> Taken {
        var backoff = waits.start()
        var waitedFor: StoredScoring?
        while true {
            let entry = try await store.claim(externalId: holding.externalId, owner: owner, lease: lease)
            if entry.emitted { return .emitted }
            if entry.isClaimed(by: owner) {
                if let before = waitedFor {
                    if entry.deadLetteredAt != nil, entry.deadLetteredAt != before.deadLetteredAt {
                        // The holder finished with a committed dead letter: that was this externalId's one output.
                        if !ledger.withLock({ $0.isHeld(holding.externalId) }) {
                            try? await store.releaseClaims(externalIds: [holding.externalId], owner: owner)
                        }
                        return .deadLetteredElsewhere
                    }
                    if before.claimOwner != nil {
                        metrics.claimTakeovers.increment()
                        logger.warning(
                            "took over an expired claim", metadata: ["externalId": "\(holding.externalId)", "from": "\(before.claimOwner ?? "")"])
                    }
                }
                ledger.withLock { $0.hold(holding) }
                return .granted(entry)
            }
            if waitedFor == nil {
                metrics.claimWaits.increment()
                waitedFor = entry
            } else {
                waitedFor?.claimOwner = entry.claimOwner
            }
            try await sleep(backoff.nextDelay() ?? waits.cap)
        }
    }

    /// The outputs of a committed cycle: claims whose records are all finished end (a scored event's claim was ended
    /// by marking it emitted; a dead letter's is marked in the store; the others are released).
    func committed(_ finished: [(ClaimHolding, ClaimLedger.Outcome)]) async {
        guard !finished.isEmpty else { return }
        await tell(ledger.withLock { $0.finish(finished) })
    }

    /// A record's output was dropped (its work was abandoned): its holding ends without an outcome.
    func discarded(_ holding: ClaimHolding) async {
        await tell(ledger.withLock { $0.finish([(holding, .none)]) })
    }

    /// The partitions were revoked: their records' claims are released for the new owner.
    func abandon(_ partitions: [TopicPartition]) async {
        await tell(ledger.withLock { $0.abandon(Set(partitions)) })
    }

    /// The session ends: every claim still held is released.
    func abandonAll() async {
        await tell(ledger.withLock { $0.abandonAll() })
    }

    /// How many externalIds are held.
    var heldCount: Int { ledger.withLock { $0.heldIDs.count } }

    /// Renews every held claim in one statement; forgets (and counts) those the store no longer shows as ours.
    func renew() async {
        let held = ledger.withLock { $0.heldIDs }
        guard !held.isEmpty else { return }
        do {
            let still = try await store.renewClaims(externalIds: held, owner: owner, lease: lease)
            let lost = Set(held).subtracting(still)
            // Ids committed since the list was taken are not lost; forget only those the ledger still holds.
            let gone = ledger.withLock { ledger in
                let gone = lost.filter { ledger.isHeld($0) }
                ledger.lost(gone)
                return gone
            }
            if !gone.isEmpty {
                metrics.claimsLost.increment(by: gone.count)
                logger.warning("claims taken over by another instance", metadata: ["count": "\(gone.count)"])
            }
        } catch {
            logger.warning("could not renew claims; retrying at the next renewal", metadata: ["error": "\(error)", "count": "\(held.count)"])
        }
    }

    /// Renews the held claims every third of the lease until the task is cancelled.
    func renewUntilCancelled() async {
        while !Task.isCancelled {
            do { try await sleep(lease / 3) } catch { return }
            await renew()
        }
    }

    private func tell(_ ending: ClaimLedger.Ending) async {
        guard !ending.isEmpty else { return }
        do {
            try await store.markDeadLettered(externalIds: ending.deadLettered)
            try await store.releaseClaims(externalIds: ending.released, owner: owner)
        } catch {
            // Not fatal: the claims expire after the lease, and a waiting instance then takes them over.
            logger.warning(
                "could not end claims; they expire after the lease", metadata: ["error": "\(error)", "count": "\(ending.released.count + ending.deadLettered.count)"])
        }
    }
}
