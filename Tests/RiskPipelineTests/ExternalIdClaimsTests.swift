import ClockTestSupport
import FixtureTestSupport
import Foundation
import IdempotencyStore
import Kafka
import Logging
import RiskPolicy
import Synchronization
import Testing
@testable import RiskPipeline

/// Two instances' claims on one real SQLite store, with the store's clock and the waits injected.
@Suite struct ExternalIdClaimsTests {
    static let holding = ClaimHolding(externalId: "evt-1", work: 1, partition: TopicPartition(topic: "in", partition: 0))

    /// Runs `body` with a fresh store on `time`, cleaned up afterwards.
    static func withStore(_ time: TestTime, _ body: (SQLiteIdempotencyStore) async throws -> Void) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try await SQLiteIdempotencyStore.open(path: directory.file("store.sqlite"), now: time.closure)
        do {
            try await body(store)
            try await store.close()
        } catch {
            try? await store.close()
            throw error
        }
    }

    /// Claims for `owner`; each wait runs `whileWaiting` (the other instance acting) instead of sleeping.
    static func claims(
        _ store: any IdempotencyStore, owner: String, lease: Duration = .seconds(5), time: TestTime, committed: CommittedOffsets = CommittedOffsets(),
        whileWaiting: @escaping @Sendable () async throws -> Void = {}
    ) -> ExternalIdClaims {
        ExternalIdClaims(
            store: store, owner: owner, lease: lease, waits: RetryTable().claimWaits, metrics: WorkerMetrics(),
            logger: Logger(label: "test"), committedOffset: { committed.offset($0) }, now: time.closure,
            sleep: { _ in try await whileWaiting() })
    }

    @Test func aRecordWaitingOnAnotherInstanceProducesNothingOnceItsScoredEventIsCommitted() async throws {
        let time = TestTime()
        try await Self.withStore(time) { store in
            let a = Self.claims(store, owner: "a", time: time)
            guard case .granted = try await a.take(Self.holding) else { Issue.record("a was not granted"); return }
            let waits = CallCount()
            let b = Self.claims(store, owner: "b", time: time) {
                // The holder's transaction commits while b waits.
                if waits.next() == 1 {
                    try await store.markEmitted(externalIds: ["evt-1"])
                    await a.committed([(Self.holding, .emitted)])
                }
            }
            guard case .emitted = try await b.take(Self.holding) else { Issue.record("b was not told it was emitted"); return }
            #expect(waits.value == 1)
            #expect(a.heldCount == 0 && b.heldCount == 0)
        }
    }

    @Test func aRecordWaitingOnAnotherInstanceProducesNothingOnceItsDeadLetterIsCommitted() async throws {
        let time = TestTime()
        try await Self.withStore(time) { store in
            let a = Self.claims(store, owner: "a", time: time)
            guard case .granted = try await a.take(Self.holding) else { Issue.record("a was not granted"); return }
            let b = Self.claims(store, owner: "b", time: time) { await a.committed([(Self.holding, .deadLettered)]) }
            guard case .deadLetteredElsewhere = try await b.take(Self.holding) else { Issue.record("b went on"); return }
            // b let go of the claim it took to look, so that a replay can take it.
            let entry = try #require(try await store.lookup(externalId: "evt-1"))
            #expect(entry.claimOwner == nil && entry.deadLetteredAt != nil)
        }
    }

    @Test func anAbandonedClaimIsReleasedAndTheWaiterGoesOnWithTheStoredResults() async throws {
        let time = TestTime()
        try await Self.withStore(time) { store in
            let a = Self.claims(store, owner: "a", time: time)
            guard case .granted = try await a.take(Self.holding) else { Issue.record("a was not granted"); return }
            try await store.savePhoneRisk(externalId: "evt-1", json: Array("{}".utf8), partial: false)
            let b = Self.claims(store, owner: "b", time: time) { await a.abandon([Self.holding.partition]) }
            guard case .granted(let entry) = try await b.take(Self.holding) else { Issue.record("b was not granted"); return }
            #expect(entry.isClaimed(by: "b") && entry.phoneRisk == Array("{}".utf8))
            #expect(a.heldCount == 0 && b.heldCount == 1)
        }
    }

    @Test func aClaimWhoseOwnerStoppedRenewingIsTakenOverAfterTheLease() async throws {
        let time = TestTime()
        try await Self.withStore(time) { store in
            let a = Self.claims(store, owner: "a", lease: .seconds(5), time: time)
            guard case .granted = try await a.take(Self.holding) else { Issue.record("a was not granted"); return }
            let waits = CallCount()
            let b = Self.claims(store, owner: "b", lease: .seconds(5), time: time) {
                waits.next()
                time.set(time.now.addingTimeInterval(2))
            }
            guard case .granted(let entry) = try await b.take(Self.holding) else { Issue.record("b was not granted"); return }
            #expect(entry.isClaimed(by: "b"))
            // Taken at 0 s for 5 s: still a's at 2 s and 4 s, expired at 6 s.
            #expect(waits.value == 3)
            // a learns at its next renewal that the claim is gone, and forgets it.
            await a.renew()
            #expect(a.heldCount == 0)
            await b.renew()
            #expect(b.heldCount == 1)
        }
    }

    @Test func aScoredEventWhoseClaimWasTakenOverIsNotProducedByTheInstanceThatLostIt() async throws {
        let time = TestTime()
        try await Self.withStore(time) { store in
            let a = Self.claims(store, owner: "a", lease: .seconds(5), time: time)
            let kept = ClaimHolding(externalId: "evt-2", work: 3, partition: Self.holding.partition, offset: 1)
            guard case .granted = try await a.take(Self.holding), case .granted = try await a.take(kept) else {
                Issue.record("a was not granted")
                return
            }
            // a stalls past its lease; b takes evt-1 over, and a's next renewal finds it gone (evt-2 it still holds).
            time.set(time.now.addingTimeInterval(6))
            let b = Self.claims(store, owner: "b", lease: .seconds(5), time: time)
            guard case .granted = try await b.take(Self.copy) else { Issue.record("b was not granted"); return }
            await a.renew()
            #expect(!a.holds("evt-1") && a.holds("evt-2"))

            let sink = RecordingSink()
            let logger = Logger(label: "test")
            let emitter = OutputEmitter(
                sink: sink, delivery: .exactlyOnce, emitted: EmittedIDs(store: store, logger: logger), claims: a, metrics: WorkerMetrics(),
                logger: logger, sleep: { _ in })
            let loop = Task { try await emitter.run() }
            let outputs = [Self.holding, kept].map { holding in
                WorkOutput.scored(ProducerRecord(topic: "out", key: nil, value: Array(holding.externalId.utf8)), claim: holding)
            }
            emitter.submit(EmitBatch(partition: Self.holding.partition, outputs: outputs, nextOffset: 2))
            await emitter.flush()
            emitter.stop()
            try await loop.value
            // Only the output whose claim a still held; both records' offsets are committed.
            #expect(sink.recorded == [.begin, .send(["evt-2"]), .offsets([TopicPartitionOffset(Self.holding.partition, offset: 2)]), .commit])
            #expect(try await store.lookup(externalId: "evt-1")?.claimOwner == "b")
        }
    }

    /// The same externalId as ``holding``, read from another partition (the second copy of an event).
    static let copy = ClaimHolding(externalId: "evt-1", work: 2, partition: TopicPartition(topic: "in", partition: 1), offset: 7)

    @Test func anExpiredClaimWhoseRecordTheGroupCommittedIsMarkedEmittedInsteadOfTakenOver() async throws {
        // a committed its scored event for evt-1 (the group's offset moved past its record) and died before marking it.
        let time = TestTime()
        try await Self.withStore(time) { store in
            let committed = CommittedOffsets()
            let a = Self.claims(store, owner: "a", time: time)
            guard case .granted = try await a.take(Self.holding) else { Issue.record("a was not granted"); return }
            try await store.save([ProviderResults(externalId: "evt-1", phoneRisk: Array("{}".utf8), numberScoring: Array("{}".utf8))])
            committed.commit(Self.holding.partition, Self.holding.offset + 1)
            let b = Self.claims(store, owner: "b", time: time, committed: committed) { time.set(time.now.addingTimeInterval(2)) }
            guard case .emitted = try await b.take(Self.copy) else { Issue.record("b did not see the committed output"); return }
            let entry = try #require(try await store.lookup(externalId: "evt-1"))
            #expect(entry.emitted && entry.claimOwner == nil)
            #expect(b.heldCount == 0)
        }
    }

    @Test func anExpiredClaimWithAnAnswerMissingWhoseRecordTheGroupCommittedWasADeadLetter() async throws {
        let time = TestTime()
        try await Self.withStore(time) { store in
            let committed = CommittedOffsets()
            let a = Self.claims(store, owner: "a", time: time)
            guard case .granted = try await a.take(Self.holding) else { Issue.record("a was not granted"); return }
            try await store.savePhoneRisk(externalId: "evt-1", json: Array("{}".utf8), partial: false)
            committed.commit(Self.holding.partition, Self.holding.offset + 1)
            let b = Self.claims(store, owner: "b", time: time, committed: committed) { time.set(time.now.addingTimeInterval(2)) }
            guard case .deadLetteredElsewhere = try await b.take(Self.copy) else { Issue.record("b went on"); return }
            let entry = try #require(try await store.lookup(externalId: "evt-1"))
            #expect(!entry.emitted && entry.deadLetteredAt != nil && entry.claimOwner == nil)
        }
    }

    @Test func anExpiredClaimWhoseRecordIsNotCommittedIsTakenOverWithTheNewRecordsPosition() async throws {
        let time = TestTime()
        try await Self.withStore(time) { store in
            let committed = CommittedOffsets()
            committed.commit(Self.holding.partition, Self.holding.offset)  // the group is at a's record, not past it
            let a = Self.claims(store, owner: "a", time: time)
            guard case .granted = try await a.take(Self.holding) else { Issue.record("a was not granted"); return }
            let b = Self.claims(store, owner: "b", time: time, committed: committed) { time.set(time.now.addingTimeInterval(2)) }
            guard case .granted(let entry) = try await b.take(Self.copy) else { Issue.record("b was not granted"); return }
            #expect(entry.isClaimed(by: "b") && entry.claimPosition == Self.copy.position)
        }
    }

    @Test func aClaimLeftByThisOwnersEarlierRunIsCheckedAtOnceWithoutWaitingForTheLease() async throws {
        let time = TestTime()
        try await Self.withStore(time) { store in
            let committed = CommittedOffsets()
            let earlier = Self.claims(store, owner: "a", time: time)
            guard case .granted = try await earlier.take(Self.holding) else { Issue.record("a was not granted"); return }
            // The same owner restarted (a new ledger), its earlier record not committed: the copy goes on at once.
            let waits = CallCount()
            let restarted = Self.claims(store, owner: "a", time: time, committed: committed) { waits.next() }
            guard case .granted(let entry) = try await restarted.take(Self.copy) else { Issue.record("not granted"); return }
            #expect(waits.value == 0 && entry.claimPosition == Self.copy.position)

            // Restarted again after the copy's output was committed (and before it was marked): produces nothing.
            try await store.save([ProviderResults(externalId: "evt-1", phoneRisk: Array("{}".utf8), numberScoring: Array("{}".utf8))])
            committed.commit(Self.copy.partition, Self.copy.offset + 1)
            let again = Self.claims(store, owner: "a", time: time, committed: committed)
            let third = ClaimHolding(externalId: "evt-1", work: 3, partition: TopicPartition(topic: "in", partition: 2), offset: 3)
            guard case .emitted = try await again.take(third) else { Issue.record("the committed output was not seen"); return }
        }
    }

    @Test func renewalKeepsAClaimAliveBeyondItsFirstLease() async throws {
        let time = TestTime()
        try await Self.withStore(time) { store in
            let a = Self.claims(store, owner: "a", lease: .seconds(5), time: time)
            guard case .granted = try await a.take(Self.holding) else { Issue.record("a was not granted"); return }
            for _ in 0..<3 {
                time.set(time.now.addingTimeInterval(4))
                await a.renew()
            }
            let entry = try await store.claim(externalId: "evt-1", owner: "b", lease: .seconds(5))
            #expect(entry.claimOwner == "a")
            #expect(a.heldCount == 1)
        }
    }

    @Test func twoRecordsOfOneInstanceShareTheClaimUntilBothFinish() async throws {
        let time = TestTime()
        try await Self.withStore(time) { store in
            let a = Self.claims(store, owner: "a", time: time)
            let second = ClaimHolding(externalId: "evt-1", work: 2, partition: TopicPartition(topic: "in", partition: 1))
            guard case .granted = try await a.take(Self.holding), case .granted = try await a.take(second) else {
                Issue.record("a was not granted both"); return
            }
            await a.discarded(Self.holding)
            #expect(try await store.lookup(externalId: "evt-1")?.claimOwner == "a")
            await a.committed([(second, .none)])
            #expect(try await store.lookup(externalId: "evt-1")?.claimOwner == nil)
        }
    }
}

/// The group's committed offsets as a test sets them (none at first).
final class CommittedOffsets: Sendable {
    private let offsets = Mutex<[TopicPartition: Int64]>([:])
    /// The committed offset of `partition`, or nil.
    func offset(_ partition: TopicPartition) -> Int64? { offsets.withLock { $0[partition] } }
    /// Commits `offset` for `partition`.
    func commit(_ partition: TopicPartition, _ offset: Int64) { offsets.withLock { $0[partition] = offset } }
}

/// A thread-safe count of calls.
final class CallCount: Sendable {
    private let count = Mutex(0)
    /// Counts one more and returns the new count.
    @discardableResult func next() -> Int { count.withLock { $0 += 1; return $0 } }
    /// The count so far.
    var value: Int { count.withLock { $0 } }
}
