import Crdkafka
import Logging
import Synchronization

/// A consumer's callback target: the event buffer, fetch flow control and the rebalance callback.
final class ConsumerContext: ClientContext, @unchecked Sendable {
    let buffer: ConsumerEventBuffer
    let revocationTimeout: Duration
    /// Serialises pausing and resuming fetching so that the last decision wins.
    private let fetching = Mutex<Bool>(false)
    private let closing = Atomic<Bool>(false)
    /// The revoke the poll thread is waiting on, if any.
    private let waitingRevocation = Mutex<PartitionRevocation?>(nil)
    /// Records converted on the poll thread and not yet handed to the buffer (poll thread only).
    private var pending: [KafkaRecord] = []
    /// Topic names by librdkafka topic handle (poll thread only).
    private var topicNames: [OpaquePointer: String] = [:]
    /// Partitions revoked during the current batch poll: its messages for them are dropped (poll thread only).
    private var revokedDuringPoll: Set<TopicPartition> = []

    init(logger: Logger, buffer: ConsumerEventBuffer, revocationTimeout: Duration) {
        self.buffer = buffer
        self.revocationTimeout = revocationTimeout
        super.init(logger: logger)
    }

    /// Marks the consumer as closing: revokes from now on complete without asking the application,
    /// and one the poll thread is waiting on completes now.
    func markClosing() {
        closing.store(true, ordering: .releasing)
        waitingRevocation.withLock { $0 }?.complete()
    }

    var isClosing: Bool { closing.load(ordering: .acquiring) }

    // MARK: Poll thread

    /// Called before each batch poll.
    func beginPoll() {
        if !revokedDuringPoll.isEmpty { revokedDuringPoll.removeAll() }
    }

    /// Converts a polled message into a pending record, or reports its error; destroys the message.
    func take(_ message: UnsafeMutablePointer<rd_kafka_message_t>) {
        defer { rd_kafka_message_destroy(message) }
        let m = message.pointee
        guard m.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            if m.err != RD_KAFKA_RESP_ERR__PARTITION_EOF {
                let error = KafkaError(m.err, message: String(cString: rd_kafka_message_errstr(message)))
                logger.warning("kafka consumer error", metadata: ["error": "\(error)"])
            }
            return
        }
        guard let rkt = m.rkt else { return }
        let topic: String
        if let known = topicNames[rkt] {
            topic = known
        } else {
            topic = String(cString: rd_kafka_topic_name(rkt))
            topicNames[rkt] = topic
        }
        // Messages a batch poll returns after a revoke it served belong to the previous owner's view: drop them.
        if !revokedDuringPoll.isEmpty, revokedDuringPoll.contains(TopicPartition(topic: topic, partition: m.partition)) { return }
        let key = m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) }
        let value = m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) }
        var headers: [KafkaHeader] = []
        var native: OpaquePointer?
        if rd_kafka_message_headers(message, &native) == RD_KAFKA_RESP_ERR_NO_ERROR, let native {
            var index = 0
            var name: UnsafePointer<CChar>?
            var bytes: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(native, index, &name, &bytes, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                let headerName = name.map { String(cString: $0) } ?? ""
                headers.append(KafkaHeader(name: headerName, value: bytes.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }))
                index += 1
            }
        }
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(message, &timestampType)
        pending.append(
            KafkaRecord(
                topic: topic,
                partition: m.partition,
                offset: m.offset,
                key: key,
                value: value,
                headers: headers,
                timestampMilliseconds: timestamp >= 0 ? timestamp : nil
            )
        )
    }

    /// Hands pending records to the buffer and pauses fetching when it is full.
    func flushPending(_ rk: OpaquePointer) {
        guard !pending.isEmpty else { return }
        let action = buffer.append(pending)
        pending.removeAll(keepingCapacity: true)
        if action != .none { syncFetching(rk) }
    }

    // MARK: Any thread

    /// Makes librdkafka's fetching match the buffer's wish (paused when full), whoever calls last.
    ///
    /// The wish is read under the same lock that applies it, so a pause and a resume decided on
    /// two threads cannot be applied in the wrong order.
    func syncFetching(_ rk: OpaquePointer) {
        fetching.withLock { applied in
            let pause = buffer.wantsFetchingPaused
            guard applied != pause else { return }
            applied = pause
            var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
            guard rd_kafka_assignment(rk, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return }
            defer { rd_kafka_topic_partition_list_destroy(list) }
            if pause {
                rd_kafka_pause_partitions(rk, list)
            } else {
                let held = buffer.pausedPartitions
                let resumable = PartitionList.partitions(list).filter { !held.contains($0) }
                let resumeList = PartitionList.make(resumable)
                defer { rd_kafka_topic_partition_list_destroy(resumeList) }
                rd_kafka_resume_partitions(rk, resumeList)
            }
        }
    }

    /// Applies the application's pause or resume of partitions under the same lock as flow control.
    func applicationPause(_ rk: OpaquePointer, _ partitions: [TopicPartition], pause: Bool) throws {
        try fetching.withLock { fetchingPaused in
            let list = PartitionList.make(partitions)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            if pause {
                buffer.pause(partitions)
                let err = rd_kafka_pause_partitions(rk, list)
                if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err) }
            } else {
                buffer.resume(partitions)
                guard !fetchingPaused else { return }
                let err = rd_kafka_resume_partitions(rk, list)
                if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err) }
            }
            if let error = PartitionList.firstError(list) { throw error }
        }
    }

    /// New partitions follow the current flow state.
    private func alignNewPartitions(_ rk: OpaquePointer, _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        fetching.withLock { paused in
            _ = paused ? rd_kafka_pause_partitions(rk, partitions) : rd_kafka_resume_partitions(rk, partitions)
        }
    }

    /// librdkafka's rebalance callback, run on the poll thread inside rd_kafka_consumer_poll.
    static let rebalanceCallback: @convention(c) (
        OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?
    ) -> Void = { rk, err, partitions, opaque in
        guard let rk, let partitions, let opaque else { return }
        let context = Unmanaged<ConsumerContext>.fromOpaque(opaque).takeUnretainedValue()
        context.rebalance(rk, err, partitions)
    }

    private func rebalance(_ rk: OpaquePointer, _ err: rd_kafka_resp_err_t, _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        flushPending(rk)
        let cooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
        let list = PartitionList.partitions(partitions)
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            if cooperative {
                if let error = rd_kafka_incremental_assign(rk, partitions) {
                    logger.error("incremental assign failed", metadata: ["error": "\(KafkaError(consuming: error))"])
                }
            } else {
                let result = rd_kafka_assign(rk, partitions)
                if result != RD_KAFKA_RESP_ERR_NO_ERROR {
                    logger.error("assign failed", metadata: ["error": "\(KafkaError(result))"])
                }
            }
            alignNewPartitions(rk, partitions)
            logger.info("partitions assigned", metadata: ["partitions": "\(list.map(\.description))"])
            if !isClosing { buffer.post(.partitionsAssigned(list)) }
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            let lost = rd_kafka_assignment_lost(rk) != 0
            revokedDuringPoll.formUnion(list)
            logger.info("partitions revoked", metadata: ["partitions": "\(list.map(\.description))", "lost": "\(lost)"])
            if !isClosing {
                let revocation = PartitionRevocation(partitions: list, isLost: lost)
                waitingRevocation.withLock { $0 = revocation }
                buffer.post(.partitionsRevoked(revocation))
                if isClosing { revocation.complete() }
                let completed = revocation.wait(timeout: revocationTimeout)
                waitingRevocation.withLock { $0 = nil }
                if !completed {
                    logger.warning("revocation not completed by the application in time; revoking anyway",
                                   metadata: ["timeout": "\(revocationTimeout)"])
                }
            }
            if cooperative {
                if let error = rd_kafka_incremental_unassign(rk, partitions) {
                    logger.error("incremental unassign failed", metadata: ["error": "\(KafkaError(consuming: error))"])
                }
            } else {
                rd_kafka_assign(rk, nil)
            }
        default:
            logger.error("rebalance error", metadata: ["error": "\(KafkaError(err))"])
            rd_kafka_assign(rk, nil)
        }
    }
}
