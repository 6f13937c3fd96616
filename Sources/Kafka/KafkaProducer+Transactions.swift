import Crdkafka

extension KafkaProducer {
    /// Registers the `transactional.id` with the broker and fences older instances that used it.
    public func initTransactions(timeout: Duration = .seconds(30)) async throws {
        let handle = self.handle
        try await NativeClient.blocking {
            try Self.check(rd_kafka_init_transactions(handle.pointer, NativeClient.milliseconds(timeout)))
        }
    }

    /// Starts a transaction: what is sent until commit or abort belongs to it.
    public func beginTransaction() throws {
        try Self.check(rd_kafka_begin_transaction(handle.pointer))
    }

    /// Adds consumed offsets (next offsets to read) to the transaction, committed with it.
    public func sendOffsetsToTransaction(
        _ offsets: [TopicPartitionOffset],
        groupMetadata: ConsumerGroupMetadata,
        timeout: Duration = .seconds(30)
    ) async throws {
        guard !offsets.isEmpty else { return }
        let handle = self.handle
        try await NativeClient.blocking {
            let list = PartitionList.make(offsets)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            try Self.check(
                rd_kafka_send_offsets_to_transaction(handle.pointer, list, groupMetadata.pointer, NativeClient.milliseconds(timeout))
            )
        }
    }

    /// Commits the transaction, flushing its records first.
    public func commitTransaction(timeout: Duration = .seconds(30)) async throws {
        let handle = self.handle
        try await NativeClient.blocking {
            try Self.check(rd_kafka_commit_transaction(handle.pointer, NativeClient.milliseconds(timeout)))
        }
    }

    /// Aborts the transaction: its records are marked aborted and its offsets dropped.
    public func abortTransaction(timeout: Duration = .seconds(30)) async throws {
        let handle = self.handle
        try await NativeClient.blocking {
            try Self.check(rd_kafka_abort_transaction(handle.pointer, NativeClient.milliseconds(timeout)))
        }
    }

    /// Throws the error librdkafka returned, if any.
    private static func check(_ error: OpaquePointer?) throws {
        if let error { throw KafkaError(consuming: error) }
    }
}
