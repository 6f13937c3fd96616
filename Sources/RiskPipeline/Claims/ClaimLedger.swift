import IdempotencyStore
import Kafka

/// One record's hold on the claim of its externalId: the claim ends when every record holding it is finished.
struct ClaimHolding: Sendable, Hashable {
    /// The externalId claimed.
    var externalId: String
    /// The work (record) holding it.
    var work: UInt64
    /// The record's partition (a revocation abandons its holdings).
    var partition: TopicPartition
    /// The record's offset.
    var offset: Int64 = 0

    /// Where the record lies, as the store keeps it with the claim.
    var position: InputPosition { InputPosition(topic: partition.topic, partition: partition.partition, offset: offset) }
}

/// The claims this instance holds, as a value: which records hold each externalId, and what their committed outputs
/// were. Every input returns what the store must be told; ``ExternalIdClaims`` does it.
struct ClaimLedger: Sendable {
    /// How a holding record finished.
    enum Outcome: Sendable, Hashable {
        /// Its scored event was committed (the store marks it emitted, which ends the claim).
        case emitted
        /// Its dead letter was committed.
        case deadLettered
        /// It produced nothing, or its work was abandoned.
        case none
    }

    /// What the store must be told about claims no record holds any more.
    struct Ending: Sendable, Equatable {
        /// Claims ending with a committed dead letter (and no scored event).
        var deadLettered: [String] = []
        /// Claims ending without an outcome: released for another instance to take.
        var released: [String] = []

        var isEmpty: Bool { deadLettered.isEmpty && released.isEmpty }
    }

    private struct Entry {
        var works: [UInt64: TopicPartition] = [:]
        var emitted = false
        var deadLettered = false
    }

    private var entries: [String: Entry] = [:]

    /// The externalIds held (to renew).
    var heldIDs: [String] { Array(entries.keys) }

    /// Whether any record holds `externalId`.
    func isHeld(_ externalId: String) -> Bool { entries[externalId] != nil }

    /// A record took (or shares) the claim on its externalId.
    mutating func hold(_ holding: ClaimHolding) {
        entries[holding.externalId, default: Entry()].works[holding.work] = holding.partition
    }

    /// Records finished with these outcomes (their outputs committed, or dropped); returns the claims that end.
    mutating func finish(_ finished: [(ClaimHolding, Outcome)]) -> Ending {
        var ending = Ending()
        for (holding, outcome) in finished {
            guard var entry = entries[holding.externalId], entry.works.removeValue(forKey: holding.work) != nil else { continue }
            switch outcome {
            case .emitted: entry.emitted = true
            case .deadLettered: entry.deadLettered = true
            case .none: break
            }
            if entry.works.isEmpty {
                entries[holding.externalId] = nil
                end(holding.externalId, entry, into: &ending)
            } else {
                entries[holding.externalId] = entry
            }
        }
        return ending
    }

    /// The partitions were revoked: their records' holdings are dropped; returns the claims that end.
    mutating func abandon(_ partitions: Set<TopicPartition>) -> Ending {
        var ending = Ending()
        for (externalId, var entry) in entries {
            entry.works = entry.works.filter { !partitions.contains($0.value) }
            if entry.works.isEmpty {
                entries[externalId] = nil
                end(externalId, entry, into: &ending)
            } else {
                entries[externalId] = entry
            }
        }
        return ending
    }

    /// The session ends: every holding is dropped; returns the claims that end.
    mutating func abandonAll() -> Ending {
        var ending = Ending()
        for (externalId, entry) in entries { end(externalId, entry, into: &ending) }
        entries = [:]
        return ending
    }

    /// The store no longer shows these claims as ours (emitted, or taken over): forget them.
    mutating func lost(_ externalIds: some Sequence<String>) {
        for id in externalIds { entries[id] = nil }
    }

    private func end(_ externalId: String, _ entry: Entry, into ending: inout Ending) {
        if entry.emitted { return }  // marking it emitted ended the claim
        if entry.deadLettered {
            ending.deadLettered.append(externalId)
        } else {
            ending.released.append(externalId)
        }
    }
}
