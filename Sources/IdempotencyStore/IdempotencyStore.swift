import Foundation

/// Durable memory of the paid provider results per externalId, shared by every event with that externalId and by
/// every instance sharing the store.
///
/// Before paying, an instance claims the externalId (a lease it renews while its calls run); an instance finding
/// another's live claim waits instead of calling. The worker saves each result as soon as it arrives (before
/// anything is produced), so a retry or a duplicate never pays for a call that already succeeded; after the
/// transaction holding the scored event (or dead letter) commits, it marks the externalIds emitted (or dead-lettered),
/// which ends their claims, and later duplicates produce nothing. Every method is safe to call concurrently.
public protocol IdempotencyStore: Sendable {
    /// The stored entry for `externalId`, or nil when there is none (one primary-key read).
    func lookup(externalId: String) async throws -> StoredScoring?

    /// The stored entries for many externalIds at once (one statement); ids without an entry are absent.
    func lookup(externalIds: [String]) async throws -> [String: StoredScoring]

    /// Records provider results for many externalIds (one statement per thousand). Each entry is created if needed; a result
    /// that is nil leaves the stored one as it is; for the same externalId, later elements win.
    func save(_ results: [ProviderResults]) async throws

    /// Marks existing entries as emitted (their scored events are committed) and ends their claims, in one statement;
    /// ids without an entry are ignored.
    func markEmitted(externalIds: [String]) async throws

    /// Takes a claim for `owner` lasting `lease` from now on each externalId that is not emitted and not claimed
    /// (creating absent entries, recording the request's position), and extends `owner`'s own claims (keeping their
    /// positions), in one statement; returns every entry as it stands afterwards. Another owner's claim is left as it
    /// is even when it has expired: the caller decides, then calls ``takeOver(_:from:owner:lease:)``.
    func claim(_ requests: [ClaimRequest], owner: String, lease: Duration) async throws -> [String: StoredScoring]

    /// Takes the claim `previous` showed for `owner` with the request's position, if the entry is not emitted and
    /// still shows that claim, and the claim has expired or is `owner`'s own; returns the entry afterwards, or nil
    /// when it was not taken (another instance came first, or the claim was renewed or ended).
    func takeOver(_ request: ClaimRequest, from previous: StoredScoring, owner: String, lease: Duration) async throws -> StoredScoring?

    /// Extends `owner`'s claims on these ids to `lease` from now, in one statement; returns the ids `owner` still holds.
    func renewClaims(externalIds: [String], owner: String, lease: Duration) async throws -> Set<String>

    /// Ends `owner`'s claims on these ids without an outcome (the work was abandoned), so that another instance may take them at once.
    func releaseClaims(externalIds: [String], owner: String) async throws

    /// Records that dead letters for these ids are committed, ending their claims (ids without an entry are ignored).
    func markDeadLettered(externalIds: [String]) async throws

    /// The cached number-scoring records of these numbers fetched after `fetchedAfter`, in one statement.
    func cachedNumberScoring(msisdns: [String], fetchedAfter: Date) async throws -> [String: CachedNumberScoring]

    /// Keeps these number-scoring records for later events (one per number; later elements win).
    func saveCachedNumberScoring(_ records: [CachedNumberScoring]) async throws

    /// Deletes the entries last written and the cached records fetched before `cutoff`; returns how many were deleted.
    func purgeExpired(olderThan cutoff: Date) async throws -> Int

    /// Releases the store's connections; no other method may be called afterwards.
    func close() async throws
}

/// Provider results to record for one externalId: either or both.
public struct ProviderResults: Sendable, Hashable {
    /// The event's externalId (the key).
    public var externalId: String
    /// The raw JSON bytes of the phone-risk `data` object, or nil to keep what is stored.
    public var phoneRisk: [UInt8]?
    /// Whether the phone-risk answer was partial; ignored when `phoneRisk` is nil.
    public var partial: Bool
    /// The raw JSON bytes of the number-scoring record, or nil to keep what is stored.
    public var numberScoring: [UInt8]?
    /// When the provider sent `numberScoring`, if it came from the number-scoring cache; ignored when `numberScoring` is nil.
    public var numberScoringFetchedAt: Date?

    /// Results for `externalId`.
    public init(
        externalId: String, phoneRisk: [UInt8]? = nil, partial: Bool = false, numberScoring: [UInt8]? = nil,
        numberScoringFetchedAt: Date? = nil
    ) {
        self.externalId = externalId
        self.phoneRisk = phoneRisk
        self.partial = partial
        self.numberScoring = numberScoring
        self.numberScoringFetchedAt = numberScoringFetchedAt
    }

    /// The most entries one upsert statement carries (six bound values each, well under SQLite's and PostgreSQL's
    /// limits on bound values per statement).
    static let rowsPerStatement = 1_000

    /// `results` merged per externalId, in pieces of at most ``rowsPerStatement`` for one statement each.
    static func statementChunks(_ results: [ProviderResults]) -> [ArraySlice<ProviderResults>] {
        let merged = merged(results)
        return stride(from: 0, to: merged.count, by: rowsPerStatement).map {
            merged[$0..<min($0 + rowsPerStatement, merged.count)]
        }
    }

    /// One element per externalId, in first-seen order; later results for the same externalId win.
    static func merged(_ results: [ProviderResults]) -> [ProviderResults] {
        var merged: [ProviderResults] = []
        var positions: [String: Int] = [:]
        for result in results {
            guard let position = positions[result.externalId] else {
                positions[result.externalId] = merged.count
                merged.append(result)
                continue
            }
            if let phoneRisk = result.phoneRisk {
                merged[position].phoneRisk = phoneRisk
                merged[position].partial = result.partial
            }
            if let numberScoring = result.numberScoring {
                merged[position].numberScoring = numberScoring
                merged[position].numberScoringFetchedAt = result.numberScoringFetchedAt
            }
        }
        return merged
    }
}

extension IdempotencyStore {
    /// Records the phone-risk `data` object (raw JSON) and whether it was partial; creates the entry if needed and
    /// leaves the number-scoring result as it is.
    public func savePhoneRisk(externalId: String, json: [UInt8], partial: Bool) async throws {
        try await save([ProviderResults(externalId: externalId, phoneRisk: json, partial: partial)])
    }

    /// Records the number-scoring record (raw JSON) and, if it came from the cache, when it was fetched; creates the
    /// entry if needed and leaves the phone-risk result as it is.
    public func saveNumberScoring(externalId: String, json: [UInt8], fetchedAt: Date? = nil) async throws {
        try await save([ProviderResults(externalId: externalId, numberScoring: json, numberScoringFetchedAt: fetchedAt)])
    }

    /// Takes claims on these externalIds with no position (see ``IdempotencyStore/claim(_:owner:lease:)``).
    public func claim(externalIds: [String], owner: String, lease: Duration) async throws -> [String: StoredScoring] {
        try await claim(externalIds.map { ClaimRequest(externalId: $0) }, owner: owner, lease: lease)
    }

    /// Takes a claim on one externalId (see ``IdempotencyStore/claim(_:owner:lease:)``) and returns its entry.
    public func claim(_ request: ClaimRequest, owner: String, lease: Duration) async throws -> StoredScoring {
        guard let entry = try await claim([request], owner: owner, lease: lease)[request.externalId] else {
            throw IdempotencyStoreError.corrupt("claiming \(request.externalId) returned no entry")
        }
        return entry
    }

    /// Takes a claim on one externalId with no position and returns its entry.
    public func claim(externalId: String, owner: String, lease: Duration) async throws -> StoredScoring {
        try await claim(ClaimRequest(externalId: externalId), owner: owner, lease: lease)
    }
}
