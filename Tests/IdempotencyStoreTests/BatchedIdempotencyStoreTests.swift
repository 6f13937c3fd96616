import ClockTestSupport
import Foundation
import Synchronization
import Testing
@testable import IdempotencyStore

@Suite struct BatchedIdempotencyStoreTests {
    /// A real SQLite store that counts the statements it is given and can fail the next batch write.
    final class CountingStore: IdempotencyStore {
        let base: any IdempotencyStore
        let counts = Mutex((lookups: 0, saves: 0, claims: 0, failNextSave: false))

        init(_ base: any IdempotencyStore) { self.base = base }

        func lookup(externalId: String) async throws -> StoredScoring? {
            counts.withLock { $0.lookups += 1 }
            return try await base.lookup(externalId: externalId)
        }
        func lookup(externalIds: [String]) async throws -> [String: StoredScoring] {
            counts.withLock { $0.lookups += 1 }
            return try await base.lookup(externalIds: externalIds)
        }
        func save(_ results: [ProviderResults]) async throws {
            let fail = counts.withLock { counts in
                counts.saves += 1
                defer { counts.failNextSave = false }
                return counts.failNextSave
            }
            if fail { throw IdempotencyStoreError.unsupported("injected failure") }
            try await base.save(results)
        }
        func markEmitted(externalIds: [String]) async throws { try await base.markEmitted(externalIds: externalIds) }
        func claim(_ requests: [ClaimRequest], owner: String, lease: Duration) async throws -> [String: StoredScoring] {
            counts.withLock { $0.claims += 1 }
            return try await base.claim(requests, owner: owner, lease: lease)
        }
        func takeOver(_ request: ClaimRequest, from previous: StoredScoring, owner: String, lease: Duration) async throws -> StoredScoring? {
            try await base.takeOver(request, from: previous, owner: owner, lease: lease)
        }
        func renewClaims(externalIds: [String], owner: String, lease: Duration) async throws -> Set<String> {
            try await base.renewClaims(externalIds: externalIds, owner: owner, lease: lease)
        }
        func releaseClaims(externalIds: [String], owner: String) async throws { try await base.releaseClaims(externalIds: externalIds, owner: owner) }
        func markDeadLettered(externalIds: [String]) async throws { try await base.markDeadLettered(externalIds: externalIds) }
        func cachedNumberScoring(msisdns: [String], fetchedAfter: Date) async throws -> [String: CachedNumberScoring] {
            try await base.cachedNumberScoring(msisdns: msisdns, fetchedAfter: fetchedAfter)
        }
        func saveCachedNumberScoring(_ records: [CachedNumberScoring]) async throws { try await base.saveCachedNumberScoring(records) }
        func purgeExpired(olderThan cutoff: Date) async throws -> Int { try await base.purgeExpired(olderThan: cutoff) }
        func close() async throws { try await base.close() }
    }

    @Test func concurrentCallsShareStatementsAndEveryCallerGetsItsOwnAnswer() async throws {
        try await StoreKind.sqlite.withStore(now: TestTime().closure) { sqlite in
            let counting = CountingStore(sqlite)
            let store = BatchedIdempotencyStore(counting, maxBatch: 64)
            let ids = (0..<300).map { "evt-\($0)" }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, id) in ids.enumerated() {
                    group.addTask {
                        try await store.savePhoneRisk(externalId: id, json: Array("{\"r\":\(index)}".utf8), partial: index % 2 == 0)
                    }
                    group.addTask { try await store.saveNumberScoring(externalId: id, json: Array("{\"n\":\(index)}".utf8)) }
                }
                try await group.waitForAll()
            }
            let answers = try await withThrowingTaskGroup(of: (String, StoredScoring?).self) { group in
                for id in ids + ["unknown"] {
                    group.addTask { (id, try await store.lookup(externalId: id)) }
                }
                return try await group.reduce(into: [String: StoredScoring?]()) { $0[$1.0] = $1.1 }
            }
            for (index, id) in ids.enumerated() {
                let stored = try #require(answers[id] ?? nil, "\(id)")
                #expect(stored.phoneRisk == Array("{\"r\":\(index)}".utf8), "\(id)")
                #expect(stored.numberScoring == Array("{\"n\":\(index)}".utf8), "\(id)")
                #expect(stored.partial == (index % 2 == 0), "\(id)")
            }
            #expect(answers["unknown"] == .some(nil))
            let counts = counting.counts.withLock { $0 }
            // 600 writes and 301 reads; at most 64 per statement, so at least 10 and 5 statements, and far fewer than calls.
            #expect(counts.saves >= 10 && counts.saves < 300, "\(counts)")
            #expect(counts.lookups >= 5 && counts.lookups < 150, "\(counts)")
        }
    }

    @Test func aFailedBatchFailsItsCallersOnlyAndTheNextBatchWorks() async throws {
        try await StoreKind.sqlite.withStore(now: TestTime().closure) { sqlite in
            let counting = CountingStore(sqlite)
            let store = BatchedIdempotencyStore(counting)
            counting.counts.withLock { $0.failNextSave = true }
            await #expect(throws: IdempotencyStoreError.self) {
                try await store.saveNumberScoring(externalId: "evt-1", json: Array("{}".utf8))
            }
            try await store.saveNumberScoring(externalId: "evt-1", json: Array("{}".utf8))
            #expect(try await store.lookup(externalId: "evt-1")?.numberScoring == Array("{}".utf8))
        }
    }
}
