import Foundation
import IdempotencyStore

/// The number-scoring cache (`NUMBER_SCORING_CACHE_TTL`): successful records per number, kept in the store and
/// reused without a call within the TTL.
///
/// Within the process one event per number looks and fetches at a time: events with a number being fetched wait for
/// that fetch and take its record, so that numbers arriving together are paid once. A fetch that fails leaves
/// nothing behind (failures are never cached); the next waiter then fetches for itself.
actor NumberScoringCache {
    /// How long a record is reused after the provider sent it.
    let ttl: Duration
    private let store: any IdempotencyStore
    private let metrics: WorkerMetrics
    private let now: @Sendable () -> Date
    /// The numbers being looked up or fetched, with the events waiting for them.
    private var fetching: [String: [CheckedContinuation<CachedNumberScoring?, Never>]] = [:]

    /// A cache in `store` reusing records for `ttl`, counting hits and misses in `metrics`.
    init(store: any IdempotencyStore, ttl: Duration, metrics: WorkerMetrics, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.ttl = ttl
        self.metrics = metrics
        self.now = now
    }

    /// The record for `msisdn` fetched within the TTL, or nil: then the caller fetches and must call ``finish(_:with:)``.
    func begin(_ msisdn: String) async throws -> CachedNumberScoring? {
        while fetching[msisdn] != nil {
            if let record = await withCheckedContinuation({ fetching[msisdn, default: []].append($0) }) {
                metrics.numberScoringCache(hit: true)
                return record
            }
        }
        fetching[msisdn] = []
        let found: CachedNumberScoring?
        do {
            let (seconds, attoseconds) = ttl.components
            let fetchedAfter = now().addingTimeInterval(-(Double(seconds) + Double(attoseconds) / 1e18))
            found = try await store.cachedNumberScoring(msisdns: [msisdn], fetchedAfter: fetchedAfter)[msisdn]
        } catch {
            finish(msisdn, with: nil)
            throw error
        }
        metrics.numberScoringCache(hit: found != nil)
        if let found { finish(msisdn, with: found) }
        return found
    }

    /// The fetch for `msisdn` ended: with the record now kept in the store, or nil after a failure.
    func finish(_ msisdn: String, with record: CachedNumberScoring?) {
        for waiter in fetching.removeValue(forKey: msisdn) ?? [] {
            waiter.resume(returning: record)
        }
    }

    /// Keeps `record` in the store for later events, then hands it to the events waiting for it.
    func keep(_ record: CachedNumberScoring) async throws {
        do {
            try await store.saveCachedNumberScoring([record])
        } catch {
            finish(record.msisdn, with: nil)
            throw error
        }
        finish(record.msisdn, with: record)
    }
}
