import FixtureTestSupport
import Foundation
import Kafka
import Testing
@testable import RiskEvents

@Suite("Dead letters")
struct DeadLetterTests {
    static let failedAt = Date(timeIntervalSince1970: 1_754_484_834.120)  // 2025-08-06T12:53:54.120Z
    static let traceparent = KafkaHeader(name: "traceparent", text: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")

    static func input(headers: [KafkaHeader] = [traceparent, KafkaHeader(name: "source", text: "crm")]) -> KafkaRecord {
        KafkaRecord(
            topic: "account-lifecycle-events",
            partition: 7,
            offset: 123_456,
            key: Array("acc-42".utf8),
            value: [0x7B, 0xFF, 0x00, 0x7D],  // deliberately not UTF-8: the bytes must pass untouched
            headers: headers,
            timestampMilliseconds: 1_754_484_800_000
        )
    }

    @Test func theRecordKeepsKeyValueAndHeadersAndAddsExactlyTheDocumentedHeaders() throws {
        let error = ValidationError.invalidValue(code: "invalid-phone-number", "phoneNumber is not an E.164 number: E.164 numbers have 8 to 15 digits, this one has 5")
        let record = DeadLetter(error, failedAt: Self.failedAt).record(for: Self.input(), topic: "account-lifecycle-dlq")
        #expect(record.topic == "account-lifecycle-dlq")
        #expect(record.partition == nil)
        #expect(record.key == Array("acc-42".utf8))
        #expect(record.value == [0x7B, 0xFF, 0x00, 0x7D])
        #expect(record.headers.map(\.name) == [
            "traceparent", "source",
            "risk.error.source", "risk.error.code", "risk.error.message", "risk.original.topic",
            "risk.original.partition", "risk.original.offset", "risk.attempts", "risk.failed.at",
        ])
        #expect(record.headers.first == Self.traceparent)
        #expect(record.headers.text("risk.error.source") == "validation")
        #expect(record.headers.text("risk.error.code") == "invalid-phone-number")
        #expect(record.headers.text("risk.error.message") == error.message)
        #expect(record.headers.text("risk.original.topic") == "account-lifecycle-events")
        #expect(record.headers.text("risk.original.partition") == "7")
        #expect(record.headers.text("risk.original.offset") == "123456")
        #expect(record.headers.text("risk.attempts") == "1")
        #expect(record.headers.text("risk.failed.at") == "2025-08-06T12:53:54.120Z")
    }

    @Test func headerNamesMatchTheDocumentedList() throws {
        let document = try String(contentsOf: SchemaCorpusTests.schemas.appendingPathComponent("dead-letter-headers.md"), encoding: .utf8)
        for name in DeadLetter.Header.written + [DeadLetter.Header.replayCount] {
            #expect(document.contains("| `\(name)` |"), "\(name) is not in schemas/dead-letter-headers.md's table")
        }
        let documented = document.split(separator: "\n").filter { $0.hasPrefix("| `risk.") }.compactMap { line in
            line.split(separator: "`").dropFirst().first.map(String.init)
        }
        #expect(Set(documented) == Set(DeadLetter.Header.written + [DeadLetter.Header.replayCount]))
    }

    @Test func aReplayedRecordGetsItsFailureHeadersReplacedNotDuplicated() throws {
        let first = DeadLetter(source: .numberScoring, code: "4", message: "throttled", attempts: 5, failedAt: Self.failedAt)
            .record(for: Self.input(), topic: "account-lifecycle-dlq")
        // The replay command puts the dead letter back on the input topic with a replay count.
        var replayedHeaders = first.headers
        replayedHeaders.insert(KafkaHeader(name: "risk.replay.count", text: "2"), at: 1)
        replayedHeaders.append(KafkaHeader(name: "risk.replayed.by", text: "ops"))
        let replayed = KafkaRecord(topic: "account-lifecycle-events", partition: 3, offset: 999, key: first.key, value: first.value, headers: replayedHeaders)

        let later = Self.failedAt.addingTimeInterval(3600)
        let second = DeadLetter(source: .phoneRisk, code: "http-400", message: "bad request", attempts: 1, failedAt: later)
            .record(for: replayed, topic: "account-lifecycle-dlq")
        for name in DeadLetter.Header.written {
            #expect(second.headers.filter { $0.name == name }.count == 1, "\(name) appears once")
        }
        #expect(second.headers.map(\.name) == [
            "traceparent", "risk.replay.count", "source", "risk.replayed.by",
            "risk.error.source", "risk.error.code", "risk.error.message", "risk.original.topic",
            "risk.original.partition", "risk.original.offset", "risk.attempts", "risk.failed.at",
        ])
        #expect(second.headers.text("risk.replay.count") == "2")
        #expect(second.headers.text("risk.error.source") == "phone-risk")
        #expect(second.headers.text("risk.error.code") == "http-400")
        #expect(second.headers.text("risk.original.partition") == "3")
        #expect(second.headers.text("risk.original.offset") == "999")
        #expect(second.headers.text("risk.attempts") == "1")
        #expect(second.headers.text("risk.failed.at") == "2025-08-06T13:53:54.120Z")
        #expect(second.value == first.value && second.key == first.key)
    }

    @Test func messagesAreCappedAndFreeOfControlCharacters() {
        let long = String(repeating: "é", count: 5000)
        let capped = DeadLetter(source: .phoneRisk, code: "500", message: long, attempts: 1, failedAt: Self.failedAt).message
        #expect(capped.count == DeadLetter.maximumMessageLength)
        #expect(capped.hasSuffix("…"))
        let short = DeadLetter(source: .phoneRisk, code: "500", message: "line one\nline two\r\u{0}end", attempts: 1, failedAt: Self.failedAt)
        #expect(short.message == "line one line two  end")
        #expect(DeadLetter(source: .phoneRisk, code: "500", message: String(repeating: "a", count: 1000), attempts: 0, failedAt: Self.failedAt).message.count == 1000)
        #expect(DeadLetter(source: .phoneRisk, code: "500", message: "x", attempts: 0, failedAt: Self.failedAt).attempts == 1)
    }

    @Test(arguments: [
        ("request failed: Authorization: Bearer eyJhbGciOi.abc-def_ghi", "eyJhbGciOi"),
        ("POST https://api.example.com/v1?apiKey=s3cr3t-KEY&x=1 failed", "s3cr3t-KEY"),
        (#"body {"api_key": "AKIA1234567890"} rejected"#, "AKIA1234567890"),
        ("token=abcdef123456 expired", "abcdef123456"),
        ("connect to postgres://risk:hunter2@db:5432/risk failed", "hunter2"),
        ("password: correct-horse", "correct-horse"),
    ])
    func credentialLikeValuesAreRedacted(message: String, secret: String) {
        let sanitised = DeadLetter.sanitise(message)
        #expect(!sanitised.contains(secret), "\(sanitised)")
        #expect(sanitised.contains("[redacted]"))
    }

    @Test func ordinaryMessagesAreLeftAlone() {
        let message = "number scoring answered response 4 (throttled) for 5 attempts; phoneNumber is not an E.164 number"
        #expect(DeadLetter.sanitise(message) == message)
    }

    @Test func infoReadsTheHeadersBack() throws {
        var headers = Self.input().headers
        headers.append(KafkaHeader(name: "risk.replay.count", text: "3"))
        let input = KafkaRecord(topic: "account-lifecycle-events", partition: 7, offset: 123_456, key: Array("acc-42".utf8), value: Array("{}".utf8), headers: headers)
        let letter = DeadLetter(source: .numberScoring, code: "4", message: "throttled \"twice\" ✓", attempts: 5, failedAt: Self.failedAt)
        let produced = letter.record(for: input, topic: "account-lifecycle-dlq")
        let consumed = KafkaRecord(topic: produced.topic, partition: 0, offset: 17, key: produced.key, value: produced.value, headers: produced.headers)

        let info = try DeadLetter.Info(from: consumed)
        #expect(info.deadLetter == letter)
        #expect(info.original == TopicPartitionOffset(topic: "account-lifecycle-events", partition: 7, offset: 123_456))
        #expect(info.replayCount == 3)
        #expect(info.key == Array("acc-42".utf8))
        #expect(info.value == Array("{}".utf8))
        #expect(info.originalHeaders == headers)
    }

    @Test func infoWithoutReplayCountSaysZero() throws {
        let produced = DeadLetter(source: .validation, code: "invalid-json", message: "m", attempts: 1, failedAt: Self.failedAt)
            .record(for: Self.input(headers: []), topic: "dlq")
        let info = try DeadLetter.Info(from: KafkaRecord(topic: "dlq", partition: 0, offset: 0, key: nil, value: nil, headers: produced.headers))
        #expect(info.replayCount == 0)
        #expect(info.originalHeaders.isEmpty)
        #expect(info.deadLetter.source == .validation)
    }

    @Test(arguments: [
        ("risk.error.source", "dns", "unknown source"),
        ("risk.original.partition", "-1", "not an integer"),
        ("risk.original.offset", "12x", "not an integer"),
        ("risk.attempts", "0", "not an integer of at least 1"),
        ("risk.failed.at", "2025-02-30T00:00:00Z", "not an RFC 3339"),
        ("risk.replay.count", "many", "not an integer"),
    ])
    func infoNamesTheBadHeader(name: String, value: String, reason: String) {
        var headers = DeadLetter(source: .phoneRisk, code: "500", message: "m", attempts: 1, failedAt: Self.failedAt)
            .headers(for: Self.input())
        headers.removeAll { $0.name == name }
        headers.append(KafkaHeader(name: name, text: value))
        let record = KafkaRecord(topic: "dlq", partition: 0, offset: 0, key: nil, value: nil, headers: headers)
        #expect {
            _ = try DeadLetter.Info(from: record)
        } throws: { error in
            guard let failure = error as? DeadLetter.Failure else { return false }
            return failure.header == name && failure.reason.contains(reason)
        }
    }

    @Test func infoNamesAMissingHeader() {
        for name in DeadLetter.Header.written {
            var headers = DeadLetter(source: .phoneRisk, code: "500", message: "m", attempts: 1, failedAt: Self.failedAt).headers(for: Self.input())
            headers.removeAll { $0.name == name }
            let record = KafkaRecord(topic: "dlq", partition: 0, offset: 0, key: nil, value: nil, headers: headers)
            #expect(throws: DeadLetter.Failure(header: name, reason: "missing")) { try DeadLetter.Info(from: record) }
        }
    }

    @Test func timestampsRoundTripAndFormatInUTCWithMilliseconds() {
        #expect(RFC3339Timestamp.string(from: Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(RFC3339Timestamp.string(from: Date(timeIntervalSince1970: -0.001)) == "1969-12-31T23:59:59.999Z")
        #expect(RFC3339Timestamp.string(from: Date(timeIntervalSince1970: 951_782_400.5)) == "2000-02-29T00:00:00.500Z")
        #expect(RFC3339Timestamp.string(from: Date(timeIntervalSince1970: 4_102_444_799.999)) == "2099-12-31T23:59:59.999Z")
        #expect(RFC3339Timestamp.date(from: "2025-08-06T14:53:54.12+02:00") == Self.failedAt)
        #expect(RFC3339Timestamp.date(from: "2025-08-06t12:53:54.120z") == Self.failedAt)
        for bad in ["2025-08-06", "2025-08-06T12:53:54", "2025-13-01T00:00:00Z", "2023-02-29T00:00:00Z", "2025-08-06T12:53:54.Z", "2025-08-06T12:53:54Z "] {
            #expect(RFC3339Timestamp.date(from: bad) == nil, "\(bad)")
        }
        var random = SplitMix64(seed: 99)
        for _ in 0..<2000 {
            let milliseconds = Int64(random.next() % 8_000_000_000_000) - 1_000_000_000_000
            let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
            let text = RFC3339Timestamp.string(from: date)
            let back = RFC3339Timestamp.date(from: text)
            #expect(back.map { abs($0.timeIntervalSince(date)) < 0.0005 } == true, "\(text)")
            #expect(text.count == 24)
        }
    }
}
