import Kafka
import RiskEvents

/// What processing one input record produced, waiting in its partition's order to be emitted.
enum WorkOutput: Sendable {
    /// A scored event for `externalId`.
    case scored(ProducerRecord, externalId: String)
    /// A dead letter, with its source and code for the metrics.
    case deadLetter(ProducerRecord, source: FailureSource, code: String)
    /// Nothing: the externalId's scored event was committed before.
    case duplicate
}

/// A partition's outputs released in input order, and the offset to commit once they are delivered.
struct EmitBatch: Sendable {
    /// The input partition.
    var partition: TopicPartition
    /// Its outputs, in input-offset order.
    var outputs: [WorkOutput]
    /// The next input offset to read once these outputs are delivered.
    var nextOffset: Int64

    /// A batch of `outputs` from `partition`, committing `nextOffset`.
    init(partition: TopicPartition, outputs: [WorkOutput], nextOffset: Int64) {
        self.partition = partition
        self.outputs = outputs
        self.nextOffset = nextOffset
    }
}
