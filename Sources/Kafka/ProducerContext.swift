import Crdkafka
import Logging
import Synchronization

/// A producer's callback target: delivery reports and waiting for room in librdkafka's queue.
final class ProducerContext: ClientContext, @unchecked Sendable {
    private struct Room {
        var generation: UInt64 = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
        var stopping = false
    }

    private let room = Mutex(Room())
    /// Topic handles by name, made once per topic: looking a topic up by name on every record is slow.
    private let topics = Mutex<[String: NativeTopic]>([:])

    /// A librdkafka topic handle that may cross threads (handles are thread-safe).
    struct NativeTopic: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    /// The handle for `name`, made on first use; nil when librdkafka refuses the name.
    func topicHandle(_ rk: OpaquePointer, _ name: String) -> OpaquePointer? {
        let topic = topics.withLock { topics -> NativeTopic? in
            if let known = topics[name] { return known }
            guard let made = rd_kafka_topic_new(rk, name, nil) else { return nil }
            let topic = NativeTopic(pointer: made)
            topics[name] = topic
            return topic
        }
        return topic?.pointer
    }

    /// Releases every topic handle; called before the client is destroyed.
    func destroyTopics() {
        let handles = topics.withLock { topics in
            defer { topics = [:] }
            return Array(topics.values)
        }
        handles.forEach { rd_kafka_topic_destroy($0.pointer) }
    }

    /// A counter that moves each time the poll loop served events (and so may have freed room).
    var roomGeneration: UInt64 { room.withLock { $0.generation } }

    /// Waits until the poll loop has served events since `generation`, or the producer stops.
    func waitForRoom(after generation: UInt64) async {
        await withCheckedContinuation { continuation in
            let now = room.withLock { room -> Bool in
                if room.generation != generation || room.stopping { return true }
                room.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Wakes everyone waiting for room.
    func roomFreed(stopping: Bool = false) {
        let waiters = room.withLock { room -> [CheckedContinuation<Void, Never>] in
            room.generation &+= 1
            if stopping { room.stopping = true }
            defer { room.waiters = [] }
            return room.waiters
        }
        waiters.forEach { $0.resume() }
    }

    /// Whether the producer is shutting down.
    var isStopping: Bool { room.withLock { $0.stopping } }

    /// The delivery report callback: hands the result to the record's batch.
    static let deliveryCallback: @convention(c) (OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?) -> Void = { _, message, _ in
        guard let message, let opaque = message.pointee._private else { return }
        let slot = Unmanaged<DeliverySlot>.fromOpaque(opaque).takeRetainedValue()
        let result: Result<DeliveryReport, KafkaError>
        if message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
            result = .success(DeliveryReport(topic: slot.topic, partition: message.pointee.partition, offset: message.pointee.offset))
        } else {
            result = .failure(KafkaError(message.pointee.err))
        }
        slot.batch.complete(slot.index, result)
    }
}
