import Crdkafka
import Dispatch
import Foundation
import Logging
import Synchronization

/// An `rd_kafka_t` pointer that may cross threads: librdkafka's handles are thread-safe.
struct NativeHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// What librdkafka's C callbacks reach through the client's opaque pointer.
class ClientContext: @unchecked Sendable {
    let logger: Logger
    private let fatal = Mutex<KafkaError?>(nil)

    init(logger: Logger) {
        self.logger = logger
    }

    /// The client's fatal error, once librdkafka has raised one.
    var fatalError: KafkaError? { fatal.withLock { $0 } }

    func recordFatal(_ error: KafkaError) {
        fatal.withLock { if $0 == nil { $0 = error } }
    }

    /// The context behind a handle's opaque pointer.
    static func from(_ rk: OpaquePointer?) -> ClientContext? {
        guard let rk, let opaque = rd_kafka_opaque(rk) else { return nil }
        return Unmanaged<ClientContext>.fromOpaque(opaque).takeUnretainedValue()
    }
}

/// Creating librdkafka clients and running their blocking calls off Swift's cooperative pool.
enum NativeClient {
    /// Creates a producer or consumer handle from `configuration`, wiring logs and errors to `context`.
    static func make(
        type: rd_kafka_type_t,
        configuration: KafkaConfiguration,
        context: ClientContext,
        configure: (OpaquePointer) -> Void = { _ in }
    ) throws -> NativeHandle {
        let conf = try configuration.makeNativeConfiguration()
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(context).toOpaque())
        rd_kafka_conf_set_log_cb(conf) { rk, level, facility, message in
            guard let context = ClientContext.from(rk) else { return }
            let text = "\(facility.map { String(cString: $0) } ?? "") \(message.map { String(cString: $0) } ?? "")"
            context.logger.log(level: NativeClient.logLevel(syslog: level), "librdkafka: \(text)")
        }
        rd_kafka_conf_set_error_cb(conf) { rk, code, reason, _ in
            guard let context = ClientContext.from(rk) else { return }
            let message = reason.map { String(cString: $0) } ?? ""
            let err = rd_kafka_resp_err_t(code)
            if err == RD_KAFKA_RESP_ERR__FATAL, let rk {
                var errstr = [CChar](repeating: 0, count: 512)
                let code = rd_kafka_fatal_error(rk, &errstr, errstr.count)
                let error = KafkaError(code: code.rawValue, message: NativeClient.string(errstr), isFatal: true)
                context.recordFatal(error)
                context.logger.error("kafka fatal error", metadata: ["error": "\(error)"])
            } else {
                context.logger.warning("kafka error", metadata: ["error": "\(KafkaError(err, message: message))"])
            }
        }
        configure(conf)
        var errstr = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(type, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(code: RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue, message: NativeClient.string(errstr))
        }
        return NativeHandle(pointer: rk)
    }

    /// Runs a blocking librdkafka call on a Dispatch thread and returns its result.
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try body() })
            }
        }
    }

    /// Text from a NUL-terminated C buffer, as librdkafka fills `errstr`.
    static func string(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Milliseconds for librdkafka from a Swift duration, saturating.
    static func milliseconds(_ duration: Duration) -> Int32 {
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return Int32(clamping: ms)
    }

    /// Maps a syslog level as librdkafka logs it to swift-log's.
    static func logLevel(syslog level: Int32) -> Logger.Level {
        switch level {
        case ...3: return .error
        case 4: return .warning
        case 5, 6: return .info
        default: return .debug
        }
    }
}

/// A dedicated thread running one client's poll loop, which the owner can await.
final class PollThread: Sendable {
    /// Whether the body has returned, and who waits for it.
    private final class Completion: Sendable {
        let state = Mutex<(finished: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))
    }

    /// Set to ask the loop to stop; the loop reads it.
    final class StopFlag: Sendable {
        private let flag = Atomic<Bool>(false)
        /// Asks the loop to stop.
        func set() { flag.store(true, ordering: .releasing) }
        /// Whether stopping was asked.
        var isSet: Bool { flag.load(ordering: .acquiring) }
    }

    private let completion = Completion()
    /// The flag the body polls to know when to stop.
    let stop = StopFlag()

    /// Starts `body` on a new thread named `name`; the body should return soon after `stop` is set.
    init(name: String, body: @escaping @Sendable (StopFlag) -> Void) {
        let completion = self.completion
        let stop = self.stop
        let thread = Thread {
            body(stop)
            let waiters = completion.state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.finished = true
                defer { state.waiters = [] }
                return state.waiters
            }
            waiters.forEach { $0.resume() }
        }
        thread.name = name
        thread.start()
    }

    /// Returns when the thread's body has returned.
    func join() async {
        await withCheckedContinuation { continuation in
            let finished = completion.state.withLock { state -> Bool in
                if !state.finished { state.waiters.append(continuation) }
                return state.finished
            }
            if finished { continuation.resume() }
        }
    }
}
