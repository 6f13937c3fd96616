import Foundation
import Synchronization

/// An idempotency store that gathers concurrent single-entry reads, writes and claims into batch statements on another store.
///
/// While one batch statement runs, new requests queue; when it finishes, everything queued goes into the next one.
/// A lone request therefore runs at once, and under load one statement serves hundreds of events. A write returns
/// only after the statement holding it has completed, so results are still stored before anything is produced.
public final class BatchedIdempotencyStore: IdempotencyStore {
    /// The most requests one batch statement carries.
    public static let defaultMaxBatch = 512

    private let base: any IdempotencyStore
    private let reads: StatementBatcher<String, StoredScoring?>
    private let writes: StatementBatcher<ProviderResults, Void>
    private let claims: StatementBatcher<OwnedClaim, StoredScoring?>

    /// An owner and a lease: one claim statement per pair in a batch.
    private struct OwnerLease: Hashable {
        var owner: String
        var lease: Duration
    }

    /// One claim request with its owner and lease (a batch claims for each owner and lease in one statement).
    private struct OwnedClaim: Sendable {
        var request: ClaimRequest
        var owner: String
        var lease: Duration
    }

    /// Batches the single-entry reads and writes sent to `base`, at most `maxBatch` per statement.
    public init(_ base: any IdempotencyStore, maxBatch: Int = defaultMaxBatch) {
        self.base = base
        reads = StatementBatcher(maxBatch: maxBatch) { ids in
            let found = try await base.lookup(externalIds: ids)
            return ids.map { found[$0] }
        }
        writes = StatementBatcher(maxBatch: maxBatch) { results in
            try await base.save(results)
            return results.map { _ in () }
        }
        claims = StatementBatcher(maxBatch: maxBatch) { requests in
            var found: [String: StoredScoring] = [:]
            let groups = Dictionary(grouping: requests) { OwnerLease(owner: $0.owner, lease: $0.lease) }
            for group in groups.values {
                guard let first = group.first else { continue }
                let entries = try await base.claim(group.map(\.request), owner: first.owner, lease: first.lease)
                found.merge(entries) { $1 }
            }
            return requests.map { found[$0.request.externalId] }
        }
    }

    /// The stored entry for `externalId`, read in the next batch.
    public func lookup(externalId: String) async throws -> StoredScoring? {
        try await reads.submit(externalId)
    }

    /// The stored entries for many externalIds (passed through as they are).
    public func lookup(externalIds: [String]) async throws -> [String: StoredScoring] {
        try await base.lookup(externalIds: externalIds)
    }

    /// Records results; a single entry goes into the next batch, several are passed through as one statement.
    public func save(_ results: [ProviderResults]) async throws {
        if results.count == 1, let result = results.first {
            try await writes.submit(result)
        } else {
            try await base.save(results)
        }
    }

    /// Marks entries emitted (passed through: the emitter already batches).
    public func markEmitted(externalIds: [String]) async throws {
        try await base.markEmitted(externalIds: externalIds)
    }

    /// Takes claims; a single one goes into the next batch, several are passed through as one statement.
    public func claim(_ requests: [ClaimRequest], owner: String, lease: Duration) async throws -> [String: StoredScoring] {
        guard requests.count == 1, let request = requests.first else {
            return try await base.claim(requests, owner: owner, lease: lease)
        }
        guard let entry = try await claims.submit(OwnedClaim(request: request, owner: owner, lease: lease)) else { return [:] }
        return [request.externalId: entry]
    }

    /// Takes over a claim (passed through: takeovers are rare).
    public func takeOver(_ request: ClaimRequest, from previous: StoredScoring, owner: String, lease: Duration) async throws -> StoredScoring? {
        try await base.takeOver(request, from: previous, owner: owner, lease: lease)
    }

    /// Renews claims (passed through: the caller renews all it holds at once).
    public func renewClaims(externalIds: [String], owner: String, lease: Duration) async throws -> Set<String> {
        try await base.renewClaims(externalIds: externalIds, owner: owner, lease: lease)
    }

    /// Releases claims (passed through).
    public func releaseClaims(externalIds: [String], owner: String) async throws {
        try await base.releaseClaims(externalIds: externalIds, owner: owner)
    }

    /// Marks dead letters committed (passed through: the emitter already batches).
    public func markDeadLettered(externalIds: [String]) async throws {
        try await base.markDeadLettered(externalIds: externalIds)
    }

    /// Reads cached records (passed through).
    public func cachedNumberScoring(msisdns: [String], fetchedAfter: Date) async throws -> [String: CachedNumberScoring] {
        try await base.cachedNumberScoring(msisdns: msisdns, fetchedAfter: fetchedAfter)
    }

    /// Keeps cached records (passed through).
    public func saveCachedNumberScoring(_ records: [CachedNumberScoring]) async throws {
        try await base.saveCachedNumberScoring(records)
    }

    /// Deletes expired entries (passed through).
    public func purgeExpired(olderThan cutoff: Date) async throws -> Int {
        try await base.purgeExpired(olderThan: cutoff)
    }

    /// Closes the underlying store.
    public func close() async throws {
        try await base.close()
    }
}

/// Runs submitted requests in batches, one batch at a time, each caller resumed with its own response.
final class StatementBatcher<Request: Sendable, Response: Sendable>: Sendable {
    private typealias Waiter = (request: Request, continuation: CheckedContinuation<Response, any Error>)

    private struct State {
        var pending: [Waiter] = []
        var running = false
    }

    private let state = Mutex(State())
    private let maxBatch: Int
    private let run: @Sendable ([Request]) async throws -> [Response]

    /// A batcher that hands up to `maxBatch` requests at a time to `run`, which answers them in order.
    init(maxBatch: Int, run: @escaping @Sendable ([Request]) async throws -> [Response]) {
        self.maxBatch = max(1, maxBatch)
        self.run = run
    }

    /// Queues `request` and waits for its batch to complete.
    func submit(_ request: Request) async throws -> Response {
        try await withCheckedThrowingContinuation { continuation in
            let startsDraining = state.withLock { state in
                state.pending.append((request, continuation))
                guard !state.running else { return false }
                state.running = true
                return true
            }
            if startsDraining {
                Task { await self.drain() }
            }
        }
    }

    /// Runs batches until nothing is queued.
    private func drain() async {
        while true {
            let batch: [Waiter] = state.withLock { state in
                guard !state.pending.isEmpty else {
                    state.running = false
                    return []
                }
                let count = min(maxBatch, state.pending.count)
                let batch = Array(state.pending.prefix(count))
                state.pending.removeFirst(count)
                return batch
            }
            guard !batch.isEmpty else { return }
            do {
                let responses = try await run(batch.map(\.request))
                guard responses.count == batch.count else {
                    throw BatchMismatch(requests: batch.count, responses: responses.count)
                }
                for (waiter, response) in zip(batch, responses) {
                    waiter.continuation.resume(returning: response)
                }
            } catch {
                for waiter in batch {
                    waiter.continuation.resume(throwing: error)
                }
            }
        }
    }

    /// A batch answered with a different number of responses than requests (a programming error, reported, not trapped).
    struct BatchMismatch: Error, CustomStringConvertible {
        let requests: Int
        let responses: Int
        var description: String { "a batch of \(requests) requests got \(responses) responses" }
    }
}
