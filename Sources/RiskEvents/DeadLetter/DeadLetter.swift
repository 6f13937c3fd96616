import Foundation
import Kafka

/// Why a record is dead-lettered (source, code, message, attempts, time), and the dead-letter record built from it:
/// the original key and value bytes unchanged, the original headers kept, plus the `risk.*` headers of
/// schemas/dead-letter-headers.md.
///
/// A replayed record may already carry the `risk.*` headers of an earlier failure: the eight headers written here
/// are replaced (removed wherever they were, then appended once in a fixed order), while every other header is kept
/// as it was, `risk.replay.count` included.
public struct DeadLetter: Sendable, Hashable {
    /// The header names (all values are UTF-8 text).
    public enum Header {
        /// `validation`, `phone-risk` or `number-scoring`.
        public static let source = "risk.error.source"
        /// The provider's code, `http-<status>`, `transport`, `timeout`, or a validation slug.
        public static let code = "risk.error.code"
        /// A human explanation, credential-free, at most ``DeadLetter/maximumMessageLength`` characters.
        public static let message = "risk.error.message"
        /// The topic the record was read from.
        public static let originalTopic = "risk.original.topic"
        /// Its partition, decimal.
        public static let originalPartition = "risk.original.partition"
        /// Its offset, decimal.
        public static let originalOffset = "risk.original.offset"
        /// How many times the failing step was tried, decimal.
        public static let attempts = "risk.attempts"
        /// When the worker gave up, RFC 3339 UTC with milliseconds.
        public static let failedAt = "risk.failed.at"
        /// How many times the record was replayed from the dead-letter topic (set by replay, kept on dead-lettering).
        public static let replayCount = "risk.replay.count"

        /// The eight headers every dead letter gets, in the order they are written.
        public static let written: [String] = [source, code, message, originalTopic, originalPartition, originalOffset, attempts, failedAt]
        /// The same names as a set, for filtering.
        public static let writtenSet = Set(written)
    }

    /// The longest message kept, in characters; longer messages are cut and end with `…`.
    public static let maximumMessageLength = 1000

    /// Which step failed.
    public var source: FailureSource
    /// The failure's code (`risk.error.code`).
    public var code: String
    /// The explanation, already sanitised by the initialiser.
    public var message: String
    /// How many times the failing step was tried (at least 1).
    public var attempts: Int
    /// When the worker gave up.
    public var failedAt: Date

    /// A failure; `message` is sanitised (control characters become spaces, credential-like values are redacted,
    /// the length is capped) and `attempts` is at least 1.
    public init(source: FailureSource, code: String, message: String, attempts: Int, failedAt: Date) {
        self.source = source
        self.code = Self.sanitise(code, limit: 200)
        self.message = Self.sanitise(message, limit: Self.maximumMessageLength)
        self.attempts = max(1, attempts)
        self.failedAt = failedAt
    }

    /// A validation failure: its code and message, one attempt.
    public init(_ error: ValidationError, failedAt: Date) {
        self.init(source: .validation, code: error.code, message: error.message, attempts: 1, failedAt: failedAt)
    }

    /// The dead-letter record for `input` on `topic`: same key and value bytes, the input's headers (without
    /// earlier copies of the eight `risk.*` headers written here) followed by those eight headers.
    public func record(for input: KafkaRecord, topic: String) -> ProducerRecord {
        ProducerRecord(topic: topic, key: input.key, value: input.value, headers: headers(for: input))
    }

    /// The dead-letter headers for `input`: its headers minus earlier copies of the eight, then the eight.
    public func headers(for input: KafkaRecord) -> [KafkaHeader] {
        var headers = input.headers.filter { !Header.writtenSet.contains($0.name) }
        headers.reserveCapacity(headers.count + Header.written.count)
        headers.append(KafkaHeader(name: Header.source, text: source.rawValue))
        headers.append(KafkaHeader(name: Header.code, text: code))
        headers.append(KafkaHeader(name: Header.message, text: message))
        headers.append(KafkaHeader(name: Header.originalTopic, text: input.topic))
        headers.append(KafkaHeader(name: Header.originalPartition, text: String(input.partition)))
        headers.append(KafkaHeader(name: Header.originalOffset, text: String(input.offset)))
        headers.append(KafkaHeader(name: Header.attempts, text: String(attempts)))
        headers.append(KafkaHeader(name: Header.failedAt, text: RFC3339Timestamp.string(from: failedAt)))
        return headers
    }

    /// Makes text safe for a header: control characters become spaces, credential-like values (`Bearer …`,
    /// `apiKey=…`, `token: …`, URL user info) become `[redacted]`, and the result has at most `limit` characters.
    public static func sanitise(_ text: String, limit: Int = maximumMessageLength) -> String {
        var cleaned = String(String.UnicodeScalarView(text.unicodeScalars.map { scalar in
            scalar.properties.generalCategory == .control ? " " : scalar
        }))
        cleaned = cleaned.replacing(#/(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+\/=-]+/#) { match in
            "\(match.output.1) [redacted]"
        }
        cleaned = cleaned.replacing(
            #/(?i)\b(api[_-]?key|access[_-]?token|refresh[_-]?token|token|password|passwd|secret|client[_-]?secret|authorization)(["']?\s*[:=]\s*["']?)[^\s,;&"'}\]]+/#
        ) { match in
            "\(match.output.1)\(match.output.2)[redacted]"
        }
        cleaned = cleaned.replacing(#/:\/\/[^\/\s:@]+:[^\/\s@]+@/#) { _ in "://[redacted]@" }
        guard cleaned.count > limit else { return cleaned }
        return String(cleaned.prefix(max(0, limit - 1))) + "…"
    }

    /// A dead-letter record read back (for the `dlq` and `replay` commands): the failure, where the record came
    /// from, and the original record's key, value and headers.
    public struct Info: Sendable, Hashable {
        /// The failure the headers describe.
        public var deadLetter: DeadLetter
        /// Where the original record was read from (topic, partition, offset).
        public var original: TopicPartitionOffset
        /// `risk.replay.count`, 0 when absent.
        public var replayCount: Int
        /// The original key bytes.
        public var key: [UInt8]?
        /// The original value bytes.
        public var value: [UInt8]?
        /// The original headers: every header but the eight dead-letter ones (`risk.replay.count` kept).
        public var originalHeaders: [KafkaHeader]

        /// Reads a dead-letter record's headers (the last one of each name counts); throws naming the first
        /// missing or unreadable header.
        public init(from record: KafkaRecord) throws(Failure) {
            let headers = record.headers
            func text(_ name: String) throws(Failure) -> String {
                guard let header = headers.last(where: { $0.name == name }) else { throw Failure(header: name, reason: "missing") }
                guard let text = header.text else { throw Failure(header: name, reason: "null or not UTF-8") }
                return text
            }
            func integer<Value: FixedWidthInteger>(_ name: String, _ type: Value.Type, minimum: Value) throws(Failure) -> Value {
                let value = try text(name)
                guard let number = Value(value), number >= minimum else {
                    throw Failure(header: name, reason: "\"\(value.prefix(40))\" is not an integer of at least \(minimum)")
                }
                return number
            }
            let sourceText = try text(Header.source)
            guard let source = FailureSource(rawValue: sourceText) else {
                throw Failure(header: Header.source, reason: "unknown source \"\(sourceText.prefix(40))\"")
            }
            let code = try text(Header.code)
            let message = try text(Header.message)
            let topic = try text(Header.originalTopic)
            let partition = try integer(Header.originalPartition, Int32.self, minimum: 0)
            let offset = try integer(Header.originalOffset, Int64.self, minimum: 0)
            let attempts = try integer(Header.attempts, Int.self, minimum: 1)
            let failedAtText = try text(Header.failedAt)
            guard let failedAt = RFC3339Timestamp.date(from: failedAtText) else {
                throw Failure(header: Header.failedAt, reason: "\"\(failedAtText.prefix(40))\" is not an RFC 3339 date-time")
            }
            var replayCount = 0
            if headers.contains(where: { $0.name == Header.replayCount }) {
                replayCount = try integer(Header.replayCount, Int.self, minimum: 0)
            }
            deadLetter = DeadLetter(source: source, code: code, message: message, attempts: attempts, failedAt: failedAt)
            original = TopicPartitionOffset(topic: topic, partition: partition, offset: offset)
            self.replayCount = replayCount
            key = record.key
            value = record.value
            originalHeaders = headers.filter { !Header.writtenSet.contains($0.name) }
        }
    }

    /// A dead-letter header that is missing or unreadable.
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        /// The header's name.
        public var header: String
        /// What is wrong with it.
        public var reason: String

        /// `dead-letter header <name>: <reason>`.
        public var description: String { "dead-letter header \(header): \(reason)" }
    }
}
