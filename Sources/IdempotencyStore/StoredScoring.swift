import Foundation

/// What an idempotency store holds for one externalId: the provider results received so far and whether the
/// scored event built from them has been committed to the output topic.
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

    /// Creates an entry.
    public init(externalId: String, phoneRisk: [UInt8]?, numberScoring: [UInt8]?, partial: Bool, emitted: Bool, updatedAt: Date) {
        self.externalId = externalId
        self.phoneRisk = phoneRisk
        self.numberScoring = numberScoring
        self.partial = partial
        self.emitted = emitted
        self.updatedAt = updatedAt
    }

    /// Whether both provider results are present, so that no API needs to be called again.
    public var isComplete: Bool { phoneRisk != nil && numberScoring != nil }
}
