import Kafka
import RiskEvents

/// What processing one input record produced, waiting in its partition's order to be emitted.
///
/// `claim` is the record's hold on its externalId's claim, which ends once the output is committed (nil when the
/// record took no claim: an invalid event, or a duplicate found before claiming).
enum WorkOutput: Sendable {
    /// A scored event for the claim's externalId.
    case scored(ProducerRecord, claim: ClaimHolding)
    /// A dead letter, with its source and code for the metrics.
    case deadLetter(ProducerRecord, source: FailureSource, code: String, claim: ClaimHolding?)
    /// Nothing: the externalId's output was committed before (by this or another instance).
    case duplicate(claim: ClaimHolding?)

    /// The claim this output holds, if any.
    var claim: ClaimHolding? {
        switch self {
        case .scored(_, let claim): claim
        case .deadLetter(_, _, _, let claim), .duplicate(let claim): claim
        }
    }
}

/// A record's output and when its processing ended, waiting in its partition's sequencer.
struct FinishedOutput: Sendable {
    /// The output.
    var output: WorkOutput
    /// When the record's processing ended.
    var finishedAt: ContinuousClock.Instant
}

/// A partition's outputs released in input order, and the offset to commit once they are delivered.
struct EmitBatch: Sendable {
    /// The input partition.
    var partition: TopicPartition
    /// Its outputs, in input-offset order.
    var outputs: [WorkOutput]
    /// When each output's processing ended, in the same order (empty when not known).
    var finishedAt: [ContinuousClock.Instant]
    /// The next input offset to read once these outputs are delivered.
    var nextOffset: Int64

    /// A batch of `outputs` from `partition` that finished at `finishedAt`, committing `nextOffset`.
    init(partition: TopicPartition, outputs: [WorkOutput], finishedAt: [ContinuousClock.Instant] = [], nextOffset: Int64) {
        self.partition = partition
        self.outputs = outputs
        self.finishedAt = finishedAt
        self.nextOffset = nextOffset
    }
}
