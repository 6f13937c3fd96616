import ClockTestSupport
import Foundation
import Testing
@testable import IdempotencyStore

/// Claims on externalIds and the number-scoring cache, run against every store kind with an injected clock.
@Suite("IdempotencyStore claims and cache")
struct ClaimAndCacheTests {
    static let record = Array(#"{"msisdn":"436501234567","response":0,"scoring":{"credibility":"high"}}"#.utf8)

    @Test(arguments: StoreKind.allCases)
    func aClaimIsTakenOnceAndRefusedToOthersWhileItLives(kind: StoreKind) async throws {
        let time = TestTime()
        try await kind.withStore(now: time.closure) { store in
            let first = try await store.claim(externalIds: ["evt-1", "evt-2"], owner: "a", lease: .seconds(30))
            #expect(first.count == 2)
            #expect(first.values.allSatisfy { $0.isClaimed(by: "a") && !$0.emitted && $0.phoneRisk == nil })
            #expect(first["evt-1"]?.claimExpiresAt == time.now.addingTimeInterval(30))

            // Another owner gets the entries as they stand, held by "a".
            let second = try await store.claim(externalIds: ["evt-1", "evt-3"], owner: "b", lease: .seconds(30))
            #expect(second["evt-1"]?.claimOwner == "a")
            #expect(second["evt-3"]?.isClaimed(by: "b") == true)

            // The owner claiming again keeps it and gets a fresh expiry.
            time.set(time.now.addingTimeInterval(10))
            let again = try await store.claim(externalId: "evt-1", owner: "a", lease: .seconds(30))
            #expect(again.isClaimed(by: "a") && again.claimExpiresAt == time.now.addingTimeInterval(30))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func anExpiredClaimIsLeftToTheCallerAndTakenOverWithTheResultsSoFar(kind: StoreKind) async throws {
        let time = TestTime()
        try await kind.withStore(now: time.closure) { store in
            let first = InputPosition(topic: "events", partition: 0, offset: 10)
            let second = InputPosition(topic: "events", partition: 3, offset: 77)
            let claimed = try await store.claim(ClaimRequest(externalId: "evt-1", position: first), owner: "a", lease: .seconds(5))
            #expect(claimed.claimPosition == first)
            try await store.savePhoneRisk(externalId: "evt-1", json: Array("{}".utf8), partial: false)

            // Still live at 4.9 s: not taken over.
            time.set(time.now.addingTimeInterval(4.9))
            let live = try await store.claim(ClaimRequest(externalId: "evt-1", position: second), owner: "b", lease: .seconds(5))
            #expect(live.claimOwner == "a" && live.claimPosition == first)
            #expect(try await store.takeOver(ClaimRequest(externalId: "evt-1", position: second), from: live, owner: "b", lease: .seconds(5)) == nil)

            // Expired at 5.1 s: claim leaves it as it is, the takeover takes it.
            time.set(time.now.addingTimeInterval(0.2))
            let expired = try await store.claim(ClaimRequest(externalId: "evt-1", position: second), owner: "b", lease: .seconds(5))
            #expect(expired.claimOwner == "a" && expired.claimPosition == first)
            let taken = try #require(
                try await store.takeOver(ClaimRequest(externalId: "evt-1", position: second), from: expired, owner: "b", lease: .seconds(5)))
            #expect(taken.isClaimed(by: "b") && taken.claimPosition == second)
            #expect(taken.phoneRisk == Array("{}".utf8), "the results the first owner paid for are kept")
            // A second takeover from the same view fails: the claim is no longer what it showed.
            #expect(try await store.takeOver(ClaimRequest(externalId: "evt-1"), from: expired, owner: "c", lease: .seconds(5)) == nil)
            // The first owner's renewal now fails: it no longer holds the claim.
            #expect(try await store.renewClaims(externalIds: ["evt-1"], owner: "a", lease: .seconds(5)).isEmpty)
            // The owner claiming again keeps the position it holds.
            #expect(try await store.claim(ClaimRequest(externalId: "evt-1", position: first), owner: "b", lease: .seconds(5)).claimPosition == second)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func anOwnersClaimFromAnEarlierRunIsTakenOverAtOnceAndAnEmittedEntryNever(kind: StoreKind) async throws {
        let time = TestTime()
        try await kind.withStore(now: time.closure) { store in
            let earlier = try await store.claim(
                ClaimRequest(externalId: "evt-1", position: InputPosition(topic: "events", partition: 0, offset: 1)), owner: "a", lease: .seconds(30))
            let now = InputPosition(topic: "events", partition: 1, offset: 2)
            #expect(try await store.takeOver(ClaimRequest(externalId: "evt-1", position: now), from: earlier, owner: "a", lease: .seconds(30))?
                .claimPosition == now)

            let other = try await store.claim(externalId: "evt-2", owner: "a", lease: .seconds(5))
            try await store.markEmitted(externalIds: ["evt-2"])
            time.set(time.now.addingTimeInterval(10))
            #expect(try await store.takeOver(ClaimRequest(externalId: "evt-2"), from: other, owner: "b", lease: .seconds(5)) == nil)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func idsAndTopicsWithQuotesBackslashesAndControlCharactersAreClaimedAndMarked(kind: StoreKind) async throws {
        let awkward = ["plain", "quote\"d", "back\\slash", "tab\tnew\nline\u{1}", "ünïcødé 📞", ""]
        try await kind.withStore(now: TestTime().closure) { store in
            let position = InputPosition(topic: "ev\"ents", partition: 1, offset: 9_000_000_000)
            let claimed = try await store.claim(awkward.map { ClaimRequest(externalId: $0, position: position) }, owner: "o", lease: .seconds(30))
            #expect(Set(claimed.keys) == Set(awkward))
            #expect(claimed.values.allSatisfy { $0.claimPosition == position && $0.isClaimed(by: "o") })
            try await store.markEmitted(externalIds: awkward)
            #expect(try await store.lookup(externalIds: awkward).values.filter(\.emitted).count == awkward.count)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func renewalExtendsOnlyTheOwnersLiveClaims(kind: StoreKind) async throws {
        let time = TestTime()
        try await kind.withStore(now: time.closure) { store in
            _ = try await store.claim(externalIds: ["evt-1", "evt-2"], owner: "a", lease: .seconds(5))
            _ = try await store.claim(externalIds: ["evt-3"], owner: "b", lease: .seconds(5))
            time.set(time.now.addingTimeInterval(4))
            let renewed = try await store.renewClaims(externalIds: ["evt-1", "evt-2", "evt-3", "evt-unknown"], owner: "a", lease: .seconds(5))
            #expect(renewed == ["evt-1", "evt-2"])
            time.set(time.now.addingTimeInterval(4))
            // Renewed at 4 s for 5 s: still held at 8 s; evt-3 (not renewed) has expired.
            #expect(try await store.claim(externalId: "evt-1", owner: "b", lease: .seconds(5)).claimOwner == "a")
            let stale = try await store.claim(externalId: "evt-3", owner: "c", lease: .seconds(5))
            #expect(try await store.takeOver(ClaimRequest(externalId: "evt-3"), from: stale, owner: "c", lease: .seconds(5))?.isClaimed(by: "c") == true)
            #expect(try await store.renewClaims(externalIds: [], owner: "a", lease: .seconds(5)).isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func releasingEndsOnlyTheOwnersClaims(kind: StoreKind) async throws {
        try await kind.withStore(now: TestTime().closure) { store in
            _ = try await store.claim(externalIds: ["evt-1"], owner: "a", lease: .seconds(30))
            _ = try await store.claim(externalIds: ["evt-2"], owner: "b", lease: .seconds(30))
            try await store.releaseClaims(externalIds: ["evt-1", "evt-2"], owner: "a")
            let entries = try await store.lookup(externalIds: ["evt-1", "evt-2"])
            #expect(entries["evt-1"]?.claimOwner == nil && entries["evt-1"]?.claimExpiresAt == nil)
            #expect(entries["evt-2"]?.claimOwner == "b")
            #expect(try await store.claim(externalId: "evt-1", owner: "c", lease: .seconds(30)).isClaimed(by: "c"))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func anEmittedEntryIsNeverClaimedAgain(kind: StoreKind) async throws {
        let time = TestTime()
        try await kind.withStore(now: time.closure) { store in
            _ = try await store.claim(externalId: "evt-1", owner: "a", lease: .seconds(30))
            try await store.markEmitted(externalIds: ["evt-1"])
            let emitted = try #require(try await store.lookup(externalId: "evt-1"))
            #expect(emitted.emitted && emitted.claimOwner == nil)
            let again = try await store.claim(externalId: "evt-1", owner: "b", lease: .seconds(30))
            #expect(again.emitted && again.claimOwner == nil)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aDeadLetterEndsTheClaimAndIsRecorded(kind: StoreKind) async throws {
        let time = TestTime()
        try await kind.withStore(now: time.closure) { store in
            _ = try await store.claim(externalId: "evt-1", owner: "a", lease: .seconds(30))
            time.set(time.now.addingTimeInterval(2))
            try await store.markDeadLettered(externalIds: ["evt-1", "evt-unknown"])
            let entry = try #require(try await store.lookup(externalId: "evt-1"))
            #expect(entry.deadLetteredAt == time.now && entry.claimOwner == nil && !entry.emitted)
            #expect(try await store.lookup(externalId: "evt-unknown") == nil)
            // A replay may claim it again.
            #expect(try await store.claim(externalId: "evt-1", owner: "b", lease: .seconds(30)).isClaimed(by: "b"))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func cachedRecordsAreFoundWithinTheirAgeAndTheLatestWins(kind: StoreKind) async throws {
        let time = TestTime()
        try await kind.withStore(now: time.closure) { store in
            let fetched = time.now
            try await store.saveCachedNumberScoring([
                CachedNumberScoring(msisdn: "436501234567", record: Array("{}".utf8), fetchedAt: fetched),
                CachedNumberScoring(msisdn: "436501234567", record: Self.record, fetchedAt: fetched),
                CachedNumberScoring(msisdn: "14155550100", record: Self.record, fetchedAt: fetched.addingTimeInterval(-3600)),
            ])
            let found = try await store.cachedNumberScoring(
                msisdns: ["436501234567", "14155550100", "4912345"], fetchedAfter: fetched.addingTimeInterval(-60))
            #expect(found.keys.sorted() == ["436501234567"])
            #expect(found["436501234567"] == CachedNumberScoring(msisdn: "436501234567", record: Self.record, fetchedAt: fetched))
            #expect(try await store.cachedNumberScoring(msisdns: [], fetchedAfter: .distantPast).isEmpty)

            // A newer record replaces the old one.
            let newer = fetched.addingTimeInterval(10)
            try await store.saveCachedNumberScoring([CachedNumberScoring(msisdn: "14155550100", record: Array("{}".utf8), fetchedAt: newer)])
            let replaced = try await store.cachedNumberScoring(msisdns: ["14155550100"], fetchedAfter: fetched)
            #expect(replaced["14155550100"]?.record == Array("{}".utf8) && replaced["14155550100"]?.fetchedAt == newer)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func theCacheOriginOfANumberScoringRecordIsStoredWithIt(kind: StoreKind) async throws {
        let time = TestTime()
        try await kind.withStore(now: time.closure) { store in
            let fetched = time.now.addingTimeInterval(-600)
            try await store.saveNumberScoring(externalId: "evt-1", json: Self.record, fetchedAt: fetched)
            try await store.saveNumberScoring(externalId: "evt-2", json: Self.record)
            let entries = try await store.lookup(externalIds: ["evt-1", "evt-2"])
            #expect(entries["evt-1"]?.numberScoringFetchedAt == fetched)
            #expect(entries["evt-2"]?.numberScoringFetchedAt == nil)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func purgeDeletesCachedRecordsFetchedBeforeTheCutoff(kind: StoreKind) async throws {
        let time = TestTime()
        try await kind.withStore(now: time.closure) { store in
            try await store.saveCachedNumberScoring([
                CachedNumberScoring(msisdn: "1", record: Self.record, fetchedAt: time.now.addingTimeInterval(-100)),
                CachedNumberScoring(msisdn: "2", record: Self.record, fetchedAt: time.now),
            ])
            _ = try await store.claim(externalId: "evt-old", owner: "a", lease: .seconds(30))
            #expect(try await store.purgeExpired(olderThan: time.now.addingTimeInterval(-50)) == 1)
            #expect(try await store.cachedNumberScoring(msisdns: ["1", "2"], fetchedAfter: .distantPast).keys.sorted() == ["2"])
            // A claimed entry ages like any other: its write time is when it was claimed.
            #expect(try await store.purgeExpired(olderThan: time.now.addingTimeInterval(1)) == 2)
            #expect(try await store.lookup(externalId: "evt-old") == nil)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func concurrentClaimsOfOneIdGrantItToExactlyOneOwner(kind: StoreKind) async throws {
        try await kind.withStore(now: { Date() }) { store in
            let owners = (0..<8).map { "owner-\($0)" }
            let holders = try await withThrowingTaskGroup(of: String?.self) { group in
                for owner in owners {
                    group.addTask {
                        let entry = try await store.claim(externalId: "evt-contended", owner: owner, lease: .seconds(30))
                        return entry.isClaimed(by: owner) ? owner : nil
                    }
                }
                return try await group.reduce(into: [String]()) { if let owner = $1 { $0.append(owner) } }
            }
            #expect(holders.count == 1)
        }
    }
}
