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

    /// Records the phone-risk `data` object (raw JSON) and whether it was partial; creates the entry if needed and
    /// leaves the number-scoring result as it is.
    func savePhoneRisk(externalId: String, json: [UInt8], partial: Bool) async throws

    /// Records the number-scoring record (raw JSON); creates the entry if needed and leaves the phone-risk result as it is.
    func saveNumberScoring(externalId: String, json: [UInt8]) async throws

    /// Marks existing entries as emitted (their scored events are committed), in one statement; ids without an entry
    /// are ignored, so that a dead-lettered event can still be replayed later.
    func markEmitted(externalIds: [String]) async throws

    /// Deletes the entries last written before `cutoff` and returns how many were deleted.
    func purgeExpired(olderThan cutoff: Date) async throws -> Int

    /// Releases the store's connections; no other method may be called afterwards.
    func close() async throws
}
