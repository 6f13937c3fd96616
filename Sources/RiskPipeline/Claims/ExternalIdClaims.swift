import Foundation
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
/// expires. An expired claim, or one this owner left in an earlier run, is first checked against the group's committed
/// offsets: the claim names the input record it was taken for, and once the group has committed past that record its
/// output is committed, even though its owner stopped before marking the entry; the entry is marked then and the
/// record produces nothing. Otherwise the claim is taken over. Held claims are renewed every third of the lease
/// (``renewUntilCancelled()``); they end when their records' outputs are committed (``committed(_:)``), or are
/// released when their work is abandoned (``discarded(_:)``, ``abandon(_:)``, ``abandonAll()``). The ``ClaimLedger``
/// value holds the bookkeeping.
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
    private let committedOffset: @Sendable (TopicPartition) async throws -> Int64?
    private let now: @Sendable () -> Date
    private let ledger = Mutex(ClaimLedger())

    /// Claims in `store` for `owner`, each lasting `lease` unless renewed, looking again at a held one by `waits`;
    /// `committedOffset` gives the group's committed offset of a partition (nil when none), `now` the time claims expire by.
    init(
        store: any IdempotencyStore, owner: String, lease: Duration, waits: RetrySchedule, metrics: WorkerMetrics, logger: Logger,
        committedOffset: @escaping @Sendable (TopicPartition) async throws -> Int64?,
        now: @escaping @Sendable () -> Date = { Date() },
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.committedOffset = committedOffset
        self.now = now
        self.store = store
        self.owner = owner
        self.lease = lease
        self.waits = waits
        self.metrics = metrics
        self.logger = logger
        self.sleep = sleep
    }

    /// Takes the claim for `holding`'s record, waiting while another instance holds a live one; throws when the store
    /// or the group's offsets cannot be read (nothing taken) or the task is cancelled.
    func take(_ holding: ClaimHolding) async throws -> Taken {
        let request = ClaimRequest(externalId: holding.externalId, position: holding.position)
        var backoff = waits.start()
        var waitedFor: StoredScoring?
        while true {
            let entry = try await store.claim(request, owner: owner, lease: lease)
            if entry.emitted { return .emitted }
            if entry.isClaimed(by: owner), entry.claimPosition == holding.position || ledger.withLock({ $0.isHeld(holding.externalId) }) {
                if let before = waitedFor, entry.deadLetteredAt != nil, entry.deadLetteredAt != before.deadLetteredAt {
                    // The holder finished with a committed dead letter: that was this externalId's one output.
                    if !ledger.withLock({ $0.isHeld(holding.externalId) }) {
                        try? await store.releaseClaims(externalIds: [holding.externalId], owner: owner)
                    }
                    return .deadLetteredElsewhere
                }
                ledger.withLock { $0.hold(holding) }
                return .granted(entry)
            }
            // A claim this owner left in an earlier run, or another owner's that has expired.
            if entry.isClaimed(by: owner) || (entry.claimExpiresAt.map { $0 <= now() } ?? true) {
                if let settled = try await settledElsewhere(entry) { return settled }
                if let taken = try await store.takeOver(request, from: entry, owner: owner, lease: lease) {
                    if let from = entry.claimOwner, from != owner {
                        metrics.claimTakeovers.increment()
                        logger.warning("took over an expired claim", metadata: ["externalId": "\(holding.externalId)", "from": "\(from)"])
                    }
                    ledger.withLock { $0.hold(holding) }
                    return .granted(taken)
                }
                continue  // another instance came first, or the claim was renewed or ended: look again
            }
            if waitedFor == nil {
                metrics.claimWaits.increment()
                waitedFor = entry
            }
            try await sleep(backoff.nextDelay() ?? waits.cap)
        }
    }

    /// What came of the record a stale claim was taken for, if its output is committed: the group's committed offset of
    /// its partition is past it. The entry is then marked as its owner would have: emitted when both answers are stored
    /// (a scored event), else dead-lettered (only a dead letter leaves an answer missing).
    private func settledElsewhere(_ entry: StoredScoring) async throws -> Taken? {
        guard let position = entry.claimPosition,
            let committed = try await committedOffset(TopicPartition(topic: position.topic, partition: position.partition)),
            committed > position.offset
        else { return nil }
        metrics.claimsSettled.increment()
        logger.info(
            "a stale claim's record is committed; its entry is marked for it",
            metadata: ["externalId": "\(entry.externalId)", "claimedFor": "\(position)", "committed": "\(committed)"])
        if entry.isComplete {
            try await store.markEmitted(externalIds: [entry.externalId])
            return .emitted
        }
        try await store.markDeadLettered(externalIds: [entry.externalId])
        return .deadLetteredElsewhere
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

    /// Whether this instance still holds the claim on `externalId` (not once a renewal found it taken over).
    func holds(_ externalId: String) -> Bool { ledger.withLock { $0.isHeld(externalId) } }

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
