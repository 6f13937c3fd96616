import Foundation

/// What an idempotency store holds for one externalId: the provider results received so far, the claim of the
/// instance working on it, and whether its scored event (or dead letter) has been committed.
public struct StoredScoring: Sendable, Hashable {
    /// The event's externalId (the key).
    public var externalId: String
    /// The raw JSON bytes of the phone-risk `data` object, once that call succeeded.
    public var phoneRisk: [UInt8]?
    /// The raw JSON bytes of the number-scoring record for this number, once that call succeeded.
    public var numberScoring: [UInt8]?
    /// Whether the phone-risk answer was partial (status code 301).
    public var partial: Bool
    /// Whether the scored event has been committed to the output topic.
    public var emitted: Bool
    /// When provider results were last written to the entry (retention counts from here; marking it emitted does not count).
    public var updatedAt: Date
    /// The instance holding the claim on this externalId, if any (it may have expired: see ``claimExpiresAt``).
    public var claimOwner: String?
    /// When the claim ends unless its owner renews it.
    public var claimExpiresAt: Date?
    /// The input record the claim was taken for, when its owner said (with the group's committed offsets, it tells
    /// whether that record's output is committed).
    public var claimPosition: InputPosition?
    /// When a dead letter for this externalId was last committed.
    public var deadLetteredAt: Date?
    /// When the provider sent ``numberScoring``, if it came from the number-scoring cache rather than a call for this event.
    public var numberScoringFetchedAt: Date?

    /// Creates an entry.
    public init(
        externalId: String, phoneRisk: [UInt8]?, numberScoring: [UInt8]?, partial: Bool, emitted: Bool, updatedAt: Date,
        claimOwner: String? = nil, claimExpiresAt: Date? = nil, claimPosition: InputPosition? = nil, deadLetteredAt: Date? = nil,
        numberScoringFetchedAt: Date? = nil
    ) {
        self.externalId = externalId
        self.phoneRisk = phoneRisk
        self.numberScoring = numberScoring
        self.partial = partial
        self.emitted = emitted
        self.updatedAt = updatedAt
        self.claimOwner = claimOwner
        self.claimExpiresAt = claimExpiresAt
        self.claimPosition = claimPosition
        self.deadLetteredAt = deadLetteredAt
        self.numberScoringFetchedAt = numberScoringFetchedAt
    }

    /// Whether both provider results are present, so that no API needs to be called again.
    public var isComplete: Bool { phoneRisk != nil && numberScoring != nil }

    /// Whether `owner` holds the claim.
    public func isClaimed(by owner: String) -> Bool { claimOwner == owner }
}

/// Where a record lies in the input: its topic, partition and offset.
public struct InputPosition: Sendable, Hashable, CustomStringConvertible {
    /// The input topic.
    public var topic: String
    /// The partition.
    public var partition: Int32
    /// The record's offset.
    public var offset: Int64

    /// A record's position.
    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    public var description: String { "\(topic)[\(partition)]@\(offset)" }
}

/// One externalId to claim, and the input record claiming it.
public struct ClaimRequest: Sendable, Hashable {
    /// The externalId.
    public var externalId: String
    /// The record claiming it, or nil when the caller does not say (the claim cannot then be checked against the
    /// group's committed offsets after its owner stops).
    public var position: InputPosition?

    /// A claim on `externalId` for the record at `position`.
    public init(externalId: String, position: InputPosition? = nil) {
        self.externalId = externalId
        self.position = position
    }

    /// One request per externalId (the first given wins), in the order given.
    static func unique(_ requests: [ClaimRequest]) -> [ClaimRequest] {
        var seen: Set<String> = []
        return requests.filter { seen.insert($0.externalId).inserted }
    }
}

/// A number's successful number-scoring record, kept for later events with that number.
public struct CachedNumberScoring: Sendable, Hashable {
    /// The number as the provider keys it: country code and subscriber number, digits only.
    public var msisdn: String
    /// The raw JSON bytes of the record.
    public var record: [UInt8]
    /// When the provider sent it.
    public var fetchedAt: Date

    /// A cached record.
    public init(msisdn: String, record: [UInt8], fetchedAt: Date) {
        self.msisdn = msisdn
        self.record = record
        self.fetchedAt = fetchedAt
    }
}

extension CachedNumberScoring {
    /// One record per number (the last given wins), in pieces of at most ``ProviderResults/rowsPerStatement`` for one
    /// statement each.
    static func statementChunks(_ records: [CachedNumberScoring]) -> [ArraySlice<CachedNumberScoring>] {
        var positions: [String: Int] = [:]
        var unique: [CachedNumberScoring] = []
        for record in records {
            if let position = positions[record.msisdn] {
                unique[position] = record
            } else {
                positions[record.msisdn] = unique.count
                unique.append(record)
            }
        }
        return stride(from: 0, to: unique.count, by: ProviderResults.rowsPerStatement).map {
            unique[$0..<min($0 + ProviderResults.rowsPerStatement, unique.count)]
        }
    }
}
