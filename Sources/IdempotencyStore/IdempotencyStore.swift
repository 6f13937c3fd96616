import Foundation

/// Durable memory of the paid provider results per externalId, shared by every event with that externalId.
///
/// The worker saves each result as soon as it arrives (before anything is produced), so a retry or a duplicate
/// never pays for a call that already succeeded; after the transaction holding the scored event commits, it marks
/// the externalIds emitted, and later duplicates produce nothing. Every method is safe to call concurrently.
public protocol IdempotencyStore: Sendable {
    /// The stored entry for `externalId`, or nil when there is none (one primary-key read).
    func lookup(externalId: String) async throws -> StoredScoring?

    /// The stored entries for many externalIds at once (one statement); ids without an entry are absent.
    func lookup(externalIds: [String]) async throws -> [String: StoredScoring]

    /// Records provider results for many externalIds (one statement per thousand). Each entry is created if needed; a result
    /// that is nil leaves the stored one as it is; for the same externalId, later elements win.
    func save(_ results: [ProviderResults]) async throws

    /// Marks existing entries as emitted (their scored events are committed), in one statement; ids without an entry
    /// are ignored, so that a dead-lettered event can still be replayed later.
    func markEmitted(externalIds: [String]) async throws

    /// Deletes the entries last written before `cutoff` and returns how many were deleted.
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

    /// Results for `externalId`.
    public init(externalId: String, phoneRisk: [UInt8]? = nil, partial: Bool = false, numberScoring: [UInt8]? = nil) {
        self.externalId = externalId
        self.phoneRisk = phoneRisk
        self.partial = partial
        self.numberScoring = numberScoring
    }

    /// The most entries one upsert statement carries (five bound values each, well under SQLite's and PostgreSQL's
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
            if let numberScoring = result.numberScoring { merged[position].numberScoring = numberScoring }
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

    /// Records the number-scoring record (raw JSON); creates the entry if needed and leaves the phone-risk result as it is.
    public func saveNumberScoring(externalId: String, json: [UInt8]) async throws {
        try await save([ProviderResults(externalId: externalId, numberScoring: json)])
    }
}
