import Crdkafka

/// An error reported by librdkafka or by this binding, with librdkafka's code and message.
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    /// librdkafka's error code (`rd_kafka_resp_err_t`); negative codes are client-side.
    public let code: Int32
    /// librdkafka's message, or this binding's.
    public let message: String
    /// The operation may succeed if tried again.
    public let isRetriable: Bool
    /// The client instance is unusable and must be closed.
    public let isFatal: Bool
    /// The current transaction must be aborted, after which the producer can go on.
    public let requiresTransactionAbort: Bool

    /// An error from a code and message, with flags.
    public init(
        code: Int32,
        message: String,
        isRetriable: Bool = false,
        isFatal: Bool = false,
        requiresTransactionAbort: Bool = false
    ) {
        self.code = code
        self.message = message
        self.isRetriable = isRetriable
        self.isFatal = isFatal
        self.requiresTransactionAbort = requiresTransactionAbort
    }

    /// librdkafka's symbolic name of the code, such as `_TIMED_OUT` or `UNKNOWN_TOPIC_OR_PART`.
    public var name: String { String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(code))) }

    /// The producer was fenced by a newer instance with the same `transactional.id`.
    public var isFenced: Bool {
        code == RD_KAFKA_RESP_ERR__FENCED.rawValue || code == RD_KAFKA_RESP_ERR_PRODUCER_FENCED.rawValue
            || code == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH.rawValue
    }

    /// The operation timed out.
    public var isTimeout: Bool {
        code == RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue || code == RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT.rawValue
            || code == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT.rawValue
    }

    public var description: String {
        var flags: [String] = []
        if isFatal { flags.append("fatal") }
        if isRetriable { flags.append("retriable") }
        if requiresTransactionAbort { flags.append("abort transaction") }
        if isFenced { flags.append("fenced") }
        let suffix = flags.isEmpty ? "" : " [\(flags.joined(separator: ", "))]"
        return "Kafka error \(name) (\(code)): \(message)\(suffix)"
    }

    /// An error from a bare response code.
    init(_ err: rd_kafka_resp_err_t, message: String? = nil) {
        self.init(
            code: err.rawValue,
            message: message ?? String(cString: rd_kafka_err2str(err)),
            isRetriable: KafkaError.retriableCodes.contains(err.rawValue)
        )
    }

    /// An error from an `rd_kafka_error_t`, which it destroys.
    init(consuming error: OpaquePointer) {
        defer { rd_kafka_error_destroy(error) }
        self.init(
            code: rd_kafka_error_code(error).rawValue,
            message: String(cString: rd_kafka_error_string(error)),
            isRetriable: rd_kafka_error_is_retriable(error) != 0,
            isFatal: rd_kafka_error_is_fatal(error) != 0,
            requiresTransactionAbort: rd_kafka_error_txn_requires_abort(error) != 0
        )
    }

    /// An error raised by this binding rather than librdkafka.
    static func binding(_ message: String, code: rd_kafka_resp_err_t = RD_KAFKA_RESP_ERR__STATE) -> KafkaError {
        KafkaError(code: code.rawValue, message: message)
    }

    /// Codes librdkafka's bare results may carry that are worth retrying.
    private static let retriableCodes: Set<Int32> = [
        RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue,
        RD_KAFKA_RESP_ERR__MSG_TIMED_OUT.rawValue,
        RD_KAFKA_RESP_ERR__QUEUE_FULL.rawValue,
        RD_KAFKA_RESP_ERR__TRANSPORT.rawValue,
        RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN.rawValue,
        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT.rawValue,
        RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION.rawValue,
        RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE.rawValue,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS.rawValue,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND.rawValue,
        RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS.rawValue,
        RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE.rawValue,
        RD_KAFKA_RESP_ERR_NOT_COORDINATOR.rawValue,
        RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS.rawValue,
    ]
}
