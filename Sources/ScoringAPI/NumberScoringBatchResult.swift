/// The answer to one number scoring request, indexed by msisdn.
public struct NumberScoringBatchResult: Sendable {
    /// Records that decoded, by msisdn (the first one wins on duplicates).
    public let records: [String: NumberScoringRecord]
    /// Records whose msisdn could be read but whose other fields could not be decoded.
    public let undecodable: [String: ScoringError]

    /// Creates a result from its parts.
    public init(records: [String: NumberScoringRecord], undecodable: [String: ScoringError]) {
        self.records = records
        self.undecodable = undecodable
    }

    /// The record for `msisdn` when its `response` is 0; otherwise the coded error, a decoding error, or missing-record.
    public func result(for msisdn: String) -> Result<NumberScoringRecord, ScoringError> {
        if let record = records[msisdn] {
            guard record.response == 0 else { return .failure(.numberScoring(response: record.response)) }
            return .success(record)
        }
        if let error = undecodable[msisdn] {
            return .failure(error)
        }
        return .failure(.missingRecord())
    }
}
