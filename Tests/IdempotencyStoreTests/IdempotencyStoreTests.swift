import ClockTestSupport
import Foundation
import Testing
@testable import IdempotencyStore

/// The behaviour every idempotency store must have, run against SQLite and PostgreSQL alike.
@Suite("IdempotencyStore contract")
struct IdempotencyStoreTests {
    static let phoneRiskJSON = Array(#"{"referenceId":"R1","status":{"code":300},"risk":{"score":301}}"#.utf8)
    static let numberScoringJSON = Array(#"{"msisdn":"436501234567","response":0,"scoring":{"credibility":"high"}}"#.utf8)

    @Test(arguments: StoreKind.allCases)
    func lookupOfAnUnknownIdIsNil(kind: StoreKind) async throws {
        try await kind.withStore(now: TestTime().closure) { (store) async throws in
            #expect(try await store.lookup(externalId: "never-seen") == nil)
            #expect(try await store.lookup(externalIds: ["never-seen", "nor-this"]).isEmpty)
            #expect(try await store.lookup(externalIds: []).isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func phoneRiskIsStoredAloneWithItsPartialFlagAndTime(kind: StoreKind) async throws {
        let time = TestTime(Date(timeIntervalSince1970: 1_750_000_000.250))
        try await kind.withStore(now: time.closure) { store in

            try await store.savePhoneRisk(externalId: "evt-1", json: Self.phoneRiskJSON, partial: true)
            let stored = try #require(try await store.lookup(externalId: "evt-1"))
            #expect(stored.externalId == "evt-1")
            #expect(stored.phoneRisk == Self.phoneRiskJSON)
            #expect(stored.numberScoring == nil)
            #expect(stored.partial)
            #expect(!stored.emitted)
            #expect(!stored.isComplete)
            #expect(abs(stored.updatedAt.timeIntervalSince(time.now)) < 0.001)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func eachResultIsUpsertedIndependently(kind: StoreKind) async throws {
        let time = TestTime()
        try await kind.withStore(now: time.closure) { store in

            // Number scoring first, then phone risk: neither erases the other.
            try await store.saveNumberScoring(externalId: "evt-a", json: Self.numberScoringJSON)
            try await store.savePhoneRisk(externalId: "evt-a", json: Self.phoneRiskJSON, partial: false)
            // Phone risk first, then number scoring.
            try await store.savePhoneRisk(externalId: "evt-b", json: Self.phoneRiskJSON, partial: true)
            try await store.saveNumberScoring(externalId: "evt-b", json: Self.numberScoringJSON)

            for id in ["evt-a", "evt-b"] {
                let stored = try #require(try await store.lookup(externalId: id))
                #expect(stored.phoneRisk == Self.phoneRiskJSON, "\(id)")
                #expect(stored.numberScoring == Self.numberScoringJSON, "\(id)")
                #expect(stored.isComplete, "\(id)")
            }
            #expect(try await store.lookup(externalId: "evt-a")?.partial == false)
            #expect(try await store.lookup(externalId: "evt-b")?.partial == true)

            // A second phone-risk answer replaces the first, partial flag included, and keeps number scoring.
            let newer = Array(#"{"status":{"code":300},"risk":{"score":10}}"#.utf8)
            try await store.savePhoneRisk(externalId: "evt-b", json: newer, partial: false)
            let replaced = try #require(try await store.lookup(externalId: "evt-b"))
            #expect(replaced.phoneRisk == newer)
            #expect(!replaced.partial)
            #expect(replaced.numberScoring == Self.numberScoringJSON)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func oneSaveCarriesManyEntriesAndLaterResultsForAnIdWin(kind: StoreKind) async throws {
        try await kind.withStore(now: TestTime().closure) { (store) async throws in
            try await store.savePhoneRisk(externalId: "evt-old", json: Self.phoneRiskJSON, partial: true)
            let later = Array(#"{"status":{"code":301}}"#.utf8)
            try await store.save([
                ProviderResults(externalId: "evt-new", phoneRisk: Self.phoneRiskJSON, partial: false),
                ProviderResults(externalId: "evt-old", numberScoring: Self.numberScoringJSON),
                ProviderResults(externalId: "evt-new", numberScoring: Self.numberScoringJSON),
                ProviderResults(externalId: "evt-new", phoneRisk: later, partial: true),
            ])
            let stored = try await store.lookup(externalIds: ["evt-old", "evt-new"])
            #expect(stored["evt-old"]?.phoneRisk == Self.phoneRiskJSON)
            #expect(stored["evt-old"]?.partial == true)
            #expect(stored["evt-old"]?.numberScoring == Self.numberScoringJSON)
            #expect(stored["evt-new"]?.phoneRisk == later)
            #expect(stored["evt-new"]?.partial == true)
            #expect(stored["evt-new"]?.numberScoring == Self.numberScoringJSON)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func oneSaveOfMoreEntriesThanOneStatementBindsStoresThemAll(kind: StoreKind) async throws {
        try await kind.withStore(now: TestTime().closure) { (store) async throws in
            // 14,000 entries × 5 values is more than PostgreSQL binds in one statement (65,535).
            let ids = (0..<14_000).map { "bulk-\($0)" }
            try await store.save(ids.map { ProviderResults(externalId: $0, numberScoring: Self.numberScoringJSON) })
            let stored = try await store.lookup(externalIds: ids)
            #expect(stored.count == 14_000)
            #expect(stored["bulk-13999"]?.numberScoring == Self.numberScoringJSON)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func bytesAndIdsRoundTripExactly(kind: StoreKind) async throws {
        try await kind.withStore(now: TestTime().closure) { (store) async throws in
            let id = String(repeating: "é", count: 120) + "😀'\"; DROP TABLE x; --"
            var bytes = Array(#"{"a":"\u0000 ünïcödé","b":[1,2,3]}"#.utf8)
            bytes += [0, 255, 10, 13]  // the store is byte-oriented: no JSON re-encoding
            try await store.savePhoneRisk(externalId: id, json: bytes, partial: false)
            try await store.saveNumberScoring(externalId: id, json: Array(repeating: 0x7B, count: 70_000))
            let stored = try #require(try await store.lookup(externalId: id))
            #expect(stored.externalId == id)
            #expect(stored.phoneRisk == bytes)
            #expect(stored.numberScoring?.count == 70_000)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func markEmittedMarksManyExistingIdsAndIgnoresUnknownOnes(kind: StoreKind) async throws {
        try await kind.withStore(now: TestTime().closure) { (store) async throws in
            let ids = (0..<1_500).map { "evt-\($0)" }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for id in ids {
                    group.addTask { try await store.savePhoneRisk(externalId: id, json: Self.phoneRiskJSON, partial: false) }
                }
                try await group.waitForAll()
            }
            let emitted = Array(ids.prefix(1_200))
            try await store.markEmitted(externalIds: emitted + ["unknown-1", "unknown-2"])
            try await store.markEmitted(externalIds: [])

            let all = try await store.lookup(externalIds: ids + ["unknown-1"])
            #expect(all.count == 1_500)
            #expect(all.values.filter(\.emitted).count == 1_200)
            #expect(all["evt-0"]?.emitted == true)
            #expect(all["evt-1499"]?.emitted == false)
            // Unknown ids got no entry: a dead-lettered event may be replayed and scored later.
            #expect(try await store.lookup(externalId: "unknown-1") == nil)
            // The results are untouched.
            #expect(all["evt-7"]?.phoneRisk == Self.phoneRiskJSON)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func purgeDeletesExactlyTheEntriesWrittenBeforeTheCutoff(kind: StoreKind) async throws {
        let start = Date(timeIntervalSince1970: 1_750_000_000)
        let time = TestTime(start)
        try await kind.withStore(now: time.closure, purgeChunk: 7) { store in

            for index in 0..<20 {  // written at start + 0 s ... start + 19 s
                time.set(start.addingTimeInterval(Double(index)))
                try await store.saveNumberScoring(externalId: "old-\(index)", json: Self.numberScoringJSON)
            }
            time.set(start.addingTimeInterval(100))
            try await store.savePhoneRisk(externalId: "new", json: Self.phoneRiskJSON, partial: false)
            // Writing a result to an old entry moves its time: it is kept. Marking one emitted does not: it goes.
            try await store.savePhoneRisk(externalId: "old-0", json: Self.phoneRiskJSON, partial: false)
            try await store.markEmitted(externalIds: ["old-1"])

            // Cutoff at start + 15 s: old-1 ... old-14 go (14 rows, in chunks of 7), old-0 was written at start + 100 s.
            let purged = try await store.purgeExpired(olderThan: start.addingTimeInterval(15))
            #expect(purged == 14)
            let left = try await store.lookup(externalIds: (0..<20).map { "old-\($0)" } + ["new"])
            #expect(Set(left.keys) == Set(["old-0", "old-15", "old-16", "old-17", "old-18", "old-19", "new"]))
            #expect(try await store.purgeExpired(olderThan: start.addingTimeInterval(15)) == 0)
            #expect(try await store.purgeExpired(olderThan: start.addingTimeInterval(1_000)) == 7)
            #expect(try await store.lookup(externalId: "new") == nil)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func manyConcurrentCallersSeeEveryWrite(kind: StoreKind) async throws {
        try await kind.withStore(now: TestTime().closure) { (store) async throws in
            let count = 400
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<count {
                    group.addTask {
                        let id = "evt-\(index % 200)"  // two writers per id, one per column
                        if index < 200 {
                            try await store.savePhoneRisk(externalId: id, json: Self.phoneRiskJSON, partial: index % 2 == 0)
                        } else {
                            try await store.saveNumberScoring(externalId: id, json: Self.numberScoringJSON)
                        }
                        _ = try await store.lookup(externalId: id)
                        if index % 50 == 0 { try await store.markEmitted(externalIds: ["evt-\(index % 200)"]) }
                    }
                }
                try await group.waitForAll()
            }
            let all = try await store.lookup(externalIds: (0..<200).map { "evt-\($0)" })
            #expect(all.count == 200)
            #expect(all.values.allSatisfy { $0.isComplete })
            #expect(all["evt-0"]?.partial == true)
            #expect(all["evt-1"]?.partial == false)
        }
    }
}
