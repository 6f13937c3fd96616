import Crdkafka
import Logging
import Synchronization

/// A Kafka producer: sends records and returns when the broker has acknowledged them.
///
/// Idempotence is on unless the configuration says otherwise. One dedicated thread serves
/// librdkafka's delivery reports; sends never block a Swift concurrency thread.
public final class KafkaProducer: Sendable {
    let handle: NativeHandle
    private let context: ProducerContext
    private let pollThread: PollThread
    private let closed = Mutex(false)

    /// A producer for `configuration`; throws an error naming any unknown or invalid property.
    public init(configuration: KafkaConfiguration, logger: Logger = Logger(label: "kafka.producer")) throws {
        var configuration = configuration
        if configuration["enable.idempotence"] == nil { configuration["enable.idempotence"] = "true" }
        let context = ProducerContext(logger: logger)
        let handle = try NativeClient.make(type: RD_KAFKA_PRODUCER, configuration: configuration, context: context) { conf in
            rd_kafka_conf_set_dr_msg_cb(conf, ProducerContext.deliveryCallback)
        }
        self.context = context
        self.handle = handle
        self.pollThread = PollThread(name: "kafka-producer-poll") { [context] stop in
            KafkaProducer.pollLoop(handle: handle, context: context, stop: stop)
        }
    }

    deinit {
        // Without close(): stop the poll loop, which purges what is queued and destroys the handle.
        pollThread.stop.set()
    }

    /// The poll loop: serves delivery reports until stopped, then purges, drains and destroys the handle.
    private static func pollLoop(handle: NativeHandle, context: ProducerContext, stop: PollThread.StopFlag) {
        let rk = handle.pointer
        while !stop.isSet {
            if rd_kafka_poll(rk, 100) > 0 { context.roomFreed() }
        }
        rd_kafka_purge(rk, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
        var rounds = 0
        while rd_kafka_outq_len(rk) > 0 && rounds < 100 {
            rd_kafka_poll(rk, 50)
            rounds += 1
        }
        context.roomFreed(stopping: true)
        context.destroyTopics()
        rd_kafka_destroy(rk)
    }

    /// Sends one record and returns where the broker stored it, or throws librdkafka's error.
    @discardableResult
    public func send(_ record: ProducerRecord) async throws -> DeliveryReport {
        try await send([record])[0].get()
    }

    /// Sends records together and returns each one's delivery result, in the order given.
    public func send(_ records: [ProducerRecord]) async throws -> [Result<DeliveryReport, KafkaError>] {
        if let fatal = context.fatalError { throw fatal }
        guard !context.isStopping, !closed.withLock({ $0 }) else {
            throw KafkaError.binding("the producer is closed")
        }
        let batch = DeliveryBatch(count: records.count)
        for (index, record) in records.enumerated() {
            try await enqueue(record, slot: DeliverySlot(batch: batch, index: index, topic: record.topic))
        }
        return await batch.wait()
    }

    /// Hands one record to librdkafka, waiting for room while its queue is full.
    private func enqueue(_ record: ProducerRecord, slot: DeliverySlot) async throws {
        guard let topic = context.topicHandle(handle.pointer, record.topic) else {
            slot.batch.complete(slot.index, .failure(KafkaError(rd_kafka_last_error(), message: "invalid topic \(record.topic)")))
            return
        }
        var err = Self.produce(handle.pointer, topic, record, opaque: Unmanaged.passRetained(slot))
        while err == RD_KAFKA_RESP_ERR__QUEUE_FULL && !context.isStopping {
            // Room freed after this read moves the generation; room freed before it is seen by the retry.
            let generation = context.roomGeneration
            err = Self.produce(handle.pointer, topic, record, opaque: Unmanaged.passRetained(slot))
            if err == RD_KAFKA_RESP_ERR__QUEUE_FULL { await context.waitForRoom(after: generation) }
        }
        if err == RD_KAFKA_RESP_ERR_NO_ERROR { return }
        if let fatal = context.fatalError { throw fatal }
        slot.batch.complete(slot.index, .failure(KafkaError(err)))
    }

    /// One call of rd_kafka_producev; on failure the slot's retain is released here.
    private static func produce(
        _ rk: OpaquePointer, _ topic: OpaquePointer, _ record: ProducerRecord, opaque: Unmanaged<DeliverySlot>
    ) -> rd_kafka_resp_err_t {
        var headers: OpaquePointer?
        if !record.headers.isEmpty {
            headers = rd_kafka_headers_new(record.headers.count)
            for header in record.headers {
                if let value = header.value {
                    value.withUnsafeBytes { bytes in
                        _ = rd_kafka_header_add(headers, header.name, -1, bytes.baseAddress, bytes.count)
                    }
                } else {
                    _ = rd_kafka_header_add(headers, header.name, -1, nil, 0)
                }
            }
        }
        let partition = record.partition ?? RD_KAFKA_PARTITION_UA
        let err = withOptionalBytes(record.key) { key, keyCount in
            withOptionalBytes(record.value) { value, valueCount in
                crdkafka_produce(rk, topic, partition, key, keyCount, value, valueCount, headers, opaque.toOpaque())
            }
        }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            if let headers { rd_kafka_headers_destroy(headers) }
            opaque.release()
        }
        return err
    }

    /// Waits until every queued record is delivered or failed, up to `timeout`.
    public func flush(timeout: Duration) async throws {
        let handle = self.handle
        let err = try await NativeClient.blocking { rd_kafka_flush(handle.pointer, NativeClient.milliseconds(timeout)) }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err) }
    }

    /// Records handed to librdkafka and not yet reported on.
    public var outstandingCount: Int { Int(rd_kafka_outq_len(handle.pointer)) }

    /// The client's fatal error, if librdkafka has raised one; the producer must then be closed.
    public var fatalError: KafkaError? { context.fatalError }

    /// Flushes for up to `timeout`, fails what is left, and destroys the client; a second call does nothing.
    public func close(timeout: Duration = .seconds(10)) async {
        let first = closed.withLock { closed -> Bool in
            defer { closed = true }
            return !closed
        }
        guard first else {
            await pollThread.join()
            return
        }
        try? await flush(timeout: timeout)
        pollThread.stop.set()
        await pollThread.join()
    }
}

/// Calls `body` with a pointer and count for optional bytes (nil and 0 for nil).
private func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawPointer?, Int) -> R) -> R {
    guard let bytes else { return body(nil, 0) }
    return bytes.withUnsafeBytes { body($0.baseAddress, $0.count) }
}
