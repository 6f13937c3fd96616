import Foundation
import RiskEvents
import ScoringAPI

/// How `dlq show` and `replay --dry-run` print one dead letter: a text line or a JSON line, phone numbers masked.
public enum DeadLetterListing {
    /// The fields of one listed dead letter.
    public struct Fields: Sendable, Hashable, Encodable {
        /// The dead-letter partition.
        public var partition: Int32
        /// The dead-letter offset.
        public var offset: Int64
        /// `risk.failed.at`, RFC 3339 UTC.
        public var failedAt: String?
        /// `risk.error.source`.
        public var source: String?
        /// `risk.error.code`.
        public var code: String?
        /// `risk.error.message`, phone numbers in it masked.
        public var message: String?
        /// `risk.attempts`.
        public var attempts: Int?
        /// `risk.replay.count` (0 when absent).
        public var replayCount: Int?
        /// `risk.original.topic`.
        public var originalTopic: String?
        /// `risk.original.partition`.
        public var originalPartition: Int32?
        /// `risk.original.offset`.
        public var originalOffset: Int64?
        /// The event's externalId, when the value is a valid event.
        public var externalId: String?
        /// The event's phone number, masked, when the value is a valid event.
        public var phoneNumber: String?
        /// Why the record is not a readable dead letter, when it is not.
        public var unreadable: String?
    }

    /// The fields of a scanned record.
    public static func fields(_ entry: DeadLetterScan.Entry) -> Fields {
        var fields = Fields(partition: entry.partition, offset: entry.offset)
        switch entry.content {
        case .unreadable(let failure):
            fields.unreadable = failure.description
        case .deadLetter(let info):
            let deadLetter = info.deadLetter
            fields.failedAt = RFC3339Timestamp.string(from: deadLetter.failedAt)
            fields.source = deadLetter.source.rawValue
            fields.code = deadLetter.code
            fields.message = PhoneNumberMask.maskNumbers(in: deadLetter.message)
            fields.attempts = deadLetter.attempts
            fields.replayCount = info.replayCount
            fields.originalTopic = info.original.topicPartition.topic
            fields.originalPartition = info.original.topicPartition.partition
            fields.originalOffset = info.original.offset
            if let event = try? LifecycleEvent.decode(value: info.value) {
                fields.externalId = event.externalId
                fields.phoneNumber = event.phoneNumber.masked
            }
        }
        return fields
    }

    /// One line: `<partition>:<offset> <failed at> <source> <code> externalId=… phone=… attempts=… replays=… "<message>"`
    /// (`<partition>:<offset> unreadable: <reason>` for a record that is not a dead letter).
    public static func line(_ entry: DeadLetterScan.Entry) -> String {
        let fields = fields(entry)
        let position = "\(fields.partition):\(fields.offset)"
        if let reason = fields.unreadable { return "\(position) unreadable: \(reason)" }
        var parts = [position, fields.failedAt ?? "-", fields.source ?? "-", fields.code ?? "-"]
        parts.append("externalId=\(fields.externalId.map(quotedIfNeeded) ?? "-")")
        parts.append("phone=\(fields.phoneNumber ?? "-")")
        parts.append("attempts=\(fields.attempts.map(String.init) ?? "-")")
        parts.append("replays=\(fields.replayCount.map(String.init) ?? "0")")
        parts.append(quoted(fields.message ?? ""))
        return parts.joined(separator: " ")
    }

    /// One JSON object on one line with the ``Fields`` (absent ones left out).
    public static func json(_ entry: DeadLetterScan.Entry) -> String {
        encode(fields(entry))
    }

    /// Compact JSON text of `value` with sorted keys (`{}` if it cannot be encoded, which these types never cause).
    static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Text in double quotes, with `\` and `"` escaped and control characters as spaces.
    private static func quoted(_ text: String) -> String {
        var result = "\""
        for character in text {
            switch character {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            default: result += character.unicodeScalars.allSatisfy { $0.properties.generalCategory != .control } ? String(character) : " "
            }
        }
        return result + "\""
    }

    /// Text as is when it has no blanks, quotes or control characters; quoted otherwise.
    private static func quotedIfNeeded(_ text: String) -> String {
        let plain = !text.isEmpty && text.unicodeScalars.allSatisfy {
            !$0.properties.isWhitespace && $0 != "\"" && $0 != "\\" && $0.properties.generalCategory != .control
        }
        return plain ? text : quoted(text)
    }
}
