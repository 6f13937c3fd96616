import Foundation
import Kafka
import ScoringAPI

/// Builds the output record of a scored event: the value JSON (schemas/scored-event.schema.json) from the event and
/// the stored raw provider JSON, spliced in byte for byte, and the headers carried over from the input record.
///
/// Value members, in this order: `externalId`, `accountLifecycleEvent`, `phoneNumber` (E.164), the optional input
/// fields that are present (`accountId`, `deviceId`, `emailAddress`, `originatingIp`, `occurredAt` exactly as sent),
/// `phoneRisk` (the provider's `data` object), `numberScoring` (the provider's record for the number), when that record
/// came from the number-scoring cache `numberScoringCached` (true) and `numberScoringFetchedAt` (when the provider sent
/// it), `partial`, `scoredAt` (RFC 3339 UTC with milliseconds, from the injected clock).
public struct ScoredEventEncoder: Sendable {
    /// Why no value could be built.
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        /// The member concerned (`phoneRisk` or `numberScoring`).
        public var member: String
        /// What is wrong.
        public var reason: String

        /// `cannot build the scored event: <member> <reason>`.
        public var description: String { "cannot build the scored event: \(member) \(reason)" }
    }

    /// The wall clock giving `scoredAt`.
    public let now: @Sendable () -> Date

    /// An encoder reading the time from `now` (the system clock by default).
    public init(now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
    }

    /// The value JSON for `event`; `phoneRisk` and `numberScoring` must each be one JSON object (UTF-8), and are
    /// copied into the output unchanged. They are checked first unless `verified` (the caller parsed them strictly).
    /// `numberScoringFetchedAt` is set when the number-scoring record came from the cache.
    public func encode(
        _ event: LifecycleEvent, phoneRisk: [UInt8], numberScoring: [UInt8], partial: Bool, verified: Bool = false,
        numberScoringFetchedAt: Date? = nil
    ) throws(Failure) -> [UInt8] {
        if !verified {
            try Self.checkObject(phoneRisk, member: "phoneRisk")
            try Self.checkObject(numberScoring, member: "numberScoring")
        }
        var output: [UInt8] = []
        output.reserveCapacity(phoneRisk.count + numberScoring.count + 512)
        output.append(UInt8(ascii: "{"))
        Self.member("externalId", string: event.externalId, to: &output, first: true)
        Self.member("accountLifecycleEvent", string: event.accountLifecycleEvent.rawValue, to: &output)
        Self.member("phoneNumber", string: event.phoneNumber.e164, to: &output)
        if let accountId = event.accountId { Self.member("accountId", string: accountId, to: &output) }
        if let deviceId = event.deviceId { Self.member("deviceId", string: deviceId, to: &output) }
        if let emailAddress = event.emailAddress { Self.member("emailAddress", string: emailAddress, to: &output) }
        if let originatingIp = event.originatingIp { Self.member("originatingIp", string: originatingIp, to: &output) }
        if let occurredAt = event.occurredAt { Self.member("occurredAt", string: occurredAt, to: &output) }
        Self.member("phoneRisk", raw: phoneRisk, to: &output)
        Self.member("numberScoring", raw: numberScoring, to: &output)
        if let fetchedAt = numberScoringFetchedAt {
            Self.member("numberScoringCached", raw: Array("true".utf8), to: &output)
            Self.member("numberScoringFetchedAt", string: RFC3339Timestamp.string(from: fetchedAt), to: &output)
        }
        Self.member("partial", raw: Array((partial ? "true" : "false").utf8), to: &output)
        Self.member("scoredAt", string: RFC3339Timestamp.string(from: now()), to: &output)
        output.append(UInt8(ascii: "}"))
        return output
    }

    /// The output record for `input` on `topic`: the input's key, `value`, and the carried-over headers.
    public static func record(for input: KafkaRecord, value: [UInt8], topic: String) -> ProducerRecord {
        ProducerRecord(topic: topic, key: input.key, value: value, headers: outputHeaders(for: input.headers))
    }

    /// The output headers for an input record's headers: all of them in order (a W3C `traceparent` included),
    /// except the eight dead-letter failure headers a replayed record may carry (`risk.replay.count` is kept).
    public static func outputHeaders(for input: [KafkaHeader]) -> [KafkaHeader] {
        input.filter { !DeadLetter.Header.writtenSet.contains($0.name) }
    }

    /// Writes `text` as a JSON string: `"` and `\` escaped, control characters as `\n`-style or `\u00XX` escapes,
    /// U+2028 and U+2029 escaped (for JavaScript consumers), U+FEFF escaped (some readers drop a leading byte order
    /// mark), every other character as UTF-8.
    public static func writeString(_ text: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x22: output.append(contentsOf: [0x5C, 0x22])
            case 0x5C: output.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: output.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: output.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: output.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x08: output.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0C: output.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0x00..<0x20, 0x2028, 0x2029, 0xFEFF:
                output.append(contentsOf: Array("\\u".utf8))
                for shift in stride(from: 12, through: 0, by: -4) {
                    output.append(hexDigits[Int((scalar.value >> UInt32(shift)) & 0xF)])
                }
            default:
                if let encoded = UTF8.encode(scalar) { output.append(contentsOf: encoded) }
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private static func member(_ name: String, string value: String, to output: inout [UInt8], first: Bool = false) {
        if !first { output.append(UInt8(ascii: ",")) }
        writeString(name, to: &output)
        output.append(UInt8(ascii: ":"))
        writeString(value, to: &output)
    }

    private static func member(_ name: String, raw value: [UInt8], to output: inout [UInt8]) {
        output.append(UInt8(ascii: ","))
        writeString(name, to: &output)
        output.append(UInt8(ascii: ":"))
        output.append(contentsOf: value)
    }

    /// Checks that `bytes` are UTF-8 and one strict JSON object, so that splicing them keeps the output valid.
    private static func checkObject(_ bytes: [UInt8], member: String) throws(Failure) {
        guard JSONTokens.isValidUTF8(bytes) else { throw Failure(member: member, reason: "is not valid UTF-8") }
        do {
            switch try EventJSONReader.read(bytes, keeping: []) {
            case .object: return
            case .notAnObject(let kind): throw Failure(member: member, reason: "is a JSON \(kind.rawValue), not an object")
            }
        } catch let failure as EventJSONReader.Failure {
            throw Failure(member: member, reason: "is not valid JSON: \(failure.reason) at byte \(failure.offset)")
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(member: member, reason: "is not valid JSON: \(error)")
        }
    }
}
