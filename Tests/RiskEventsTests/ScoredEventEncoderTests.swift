import FixtureTestSupport
import Foundation
import Kafka
import ScoringAPI
import Testing
@testable import RiskEvents

@Suite("Scored event encoder")
struct ScoredEventEncoderTests {
    static let scoredAt = Date(timeIntervalSince1970: 1_754_484_834.120)

    static let phoneRisk = Array("""
        {"referenceId":"36E5A8A1","externalId":null,"status":{"updatedOn":"2025-08-06T12:53:54.120Z","code":301,"description":"Transaction partially completed"},"numbering":{"original":{"completePhoneNumber":"436501234567"}},"risk":{"level":"medium-low","recommendation":"allow","score":235},"extra":[1,2.5e3,true,null,{"nested":"\\u00e9\\n"}]}
        """.utf8)
    static let numberScoring = Array("""
        { "date" : "2025-08-06T12:53:54Z", "msisdn": "436501234567", "response": 0,
          "scoring": {"credibility": "high"}, "social_presence": {"whatsapp": {"has": "yes"}} }
        """.utf8)

    static func encoder() -> ScoredEventEncoder {
        ScoredEventEncoder(now: { scoredAt })
    }

    static func event(
        externalId: String = "evt-1",
        accountId: String? = nil,
        deviceId: String? = nil,
        emailAddress: String? = nil,
        originatingIp: String? = nil,
        occurredAt: String? = nil
    ) throws -> LifecycleEvent {
        LifecycleEvent(
            externalId: externalId,
            accountLifecycleEvent: .signIn,
            phoneNumber: try PhoneNumber("+43 650 123-4567"),
            accountId: accountId,
            deviceId: deviceId,
            emailAddress: emailAddress,
            originatingIp: originatingIp,
            occurredAt: occurredAt
        )
    }

    static func object(_ bytes: [UInt8]) throws -> [String: Any] {
        let value = try JSONSerialization.jsonObject(with: Data(bytes))
        return try #require(value as? [String: Any])
    }

    @Test func theValueHoldsTheEventTheRawProviderObjectsAndTheTime() throws {
        let bytes = try Self.encoder().encode(
            try Self.event(accountId: "acc-42", emailAddress: "a@b.example", occurredAt: "2025-08-06T14:53:54+02:00"),
            phoneRisk: Self.phoneRisk, numberScoring: Self.numberScoring, partial: true
        )
        let object = try Self.object(bytes)
        #expect(object["externalId"] as? String == "evt-1")
        #expect(object["accountLifecycleEvent"] as? String == "sign-in")
        #expect(object["phoneNumber"] as? String == "+436501234567")
        #expect(object["accountId"] as? String == "acc-42")
        #expect(object["emailAddress"] as? String == "a@b.example")
        #expect(object["occurredAt"] as? String == "2025-08-06T14:53:54+02:00")
        #expect(object["deviceId"] == nil && object["originatingIp"] == nil, "absent optional fields are left out")
        #expect(object["partial"] as? Bool == true)
        #expect(object["scoredAt"] as? String == "2025-08-06T12:53:54.120Z")
        #expect(Set(object.keys) == ["externalId", "accountLifecycleEvent", "phoneNumber", "accountId", "emailAddress", "occurredAt", "phoneRisk", "numberScoring", "partial", "scoredAt"])

        // The provider bytes are spliced in exactly as stored.
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains(#""phoneRisk":"# + String(decoding: Self.phoneRisk, as: UTF8.self)))
        #expect(text.contains(#""numberScoring":"# + String(decoding: Self.numberScoring, as: UTF8.self)))
        #expect(text.hasPrefix(#"{"externalId":"evt-1","accountLifecycleEvent":"sign-in","phoneNumber":"+436501234567","#))
        #expect(text.hasSuffix(#","partial":true,"scoredAt":"2025-08-06T12:53:54.120Z"}"#))
    }

    @Test func aCachedNumberScoringRecordSaysSoAndWhenItWasFetched() throws {
        let fetched = Date(timeIntervalSince1970: 1_754_484_834.5)
        let bytes = try Self.encoder().encode(
            try Self.event(), phoneRisk: Self.phoneRisk, numberScoring: Self.numberScoring, partial: false, numberScoringFetchedAt: fetched)
        let object = try Self.object(bytes)
        #expect(object["numberScoringCached"] as? Bool == true)
        #expect(object["numberScoringFetchedAt"] as? String == "2025-08-06T12:53:54.500Z")
        // Without a fetch time the event has exactly today's members.
        let fresh = try Self.object(
            try Self.encoder().encode(try Self.event(), phoneRisk: Self.phoneRisk, numberScoring: Self.numberScoring, partial: false))
        #expect(fresh["numberScoringCached"] == nil && fresh["numberScoringFetchedAt"] == nil)
        #expect(Set(object.keys).subtracting(fresh.keys) == ["numberScoringCached", "numberScoringFetchedAt"])
    }

    @Test(arguments: ["", "[]", "\"text\"", "{", "{\"a\":1,}", "{} {}", "null", "{\"a\":NaN}"])
    func providerBytesThatAreNotOneJSONObjectAreRefused(raw: String) throws {
        #expect(throws: ScoredEventEncoder.Failure.self) {
            try Self.encoder().encode(try Self.event(), phoneRisk: Array(raw.utf8), numberScoring: Self.numberScoring, partial: false)
        }
        #expect(throws: ScoredEventEncoder.Failure.self) {
            try Self.encoder().encode(try Self.event(), phoneRisk: Self.phoneRisk, numberScoring: Array(raw.utf8), partial: false)
        }
    }

    @Test func invalidUTF8ProviderBytesAreRefused() throws {
        #expect(throws: ScoredEventEncoder.Failure(member: "phoneRisk", reason: "is not valid UTF-8")) {
            try Self.encoder().encode(try Self.event(), phoneRisk: [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D], numberScoring: Self.numberScoring, partial: false)
        }
    }

    @Test func stringsAreEscapedSoThatAnyTextRoundTrips() throws {
        var texts = ["quote \" backslash \\ slash /", "tab\tnewline\ncr\rnul\u{0}bell\u{7}esc\u{1B}del\u{7F}", "é ü ß 漢字 🙂 \u{0301}", "\u{2028}\u{2029}", "\u{FEFF}bom", ""]
        var random = SplitMix64(seed: 2025)
        let pool: [Unicode.Scalar] = ["a", "\"", "\\", "\n", "\u{0}", "\u{1F}", "\u{7F}", "é", "\u{2028}", "𝄞", "\u{FFFF}", "\u{10FFFF}", "/", " "]
        for _ in 0..<300 {
            var scalars = String.UnicodeScalarView()
            for _ in 0..<Int(random.next() % 20) { scalars.append(pool[Int(random.next() % UInt64(pool.count))]) }
            texts.append(String(scalars))
        }
        for text in texts {
            var output: [UInt8] = []
            ScoredEventEncoder.writeString(text, to: &output)
            #expect(!output.contains { $0 < 0x20 }, "raw control character in the output for \(text.debugDescription)")
            // Read back with the worker's strict JSON reader (Foundation drops a leading U+FEFF).
            let document = try EventJSONReader.read(Array(#"{"v":"#.utf8) + output + [UInt8(ascii: "}")], keeping: ["v"])
            guard case .object(let members) = document, case .string(let decoded)? = members["v"] else {
                Issue.record("\(text.debugDescription) did not read back as a string")
                continue
            }
            #expect(Array(decoded.unicodeScalars) == Array(text.unicodeScalars), "\(text.debugDescription)")
            #expect(try JSONSerialization.jsonObject(with: Data(output), options: .fragmentsAllowed) is String)
        }
        var escaped: [UInt8] = []
        ScoredEventEncoder.writeString("a\u{1}\u{2028}\n", to: &escaped)
        #expect(String(decoding: escaped, as: UTF8.self) == #""a\u0001\u2028\n""#)
    }

    @Test func outputHeadersCarryTheInputHeadersButNotStaleFailureHeaders() {
        let input: [KafkaHeader] = [
            KafkaHeader(name: "traceparent", text: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            KafkaHeader(name: "risk.error.code", text: "4"),
            KafkaHeader(name: "tracestate", text: "congo=t61rcWkgMzE"),
            KafkaHeader(name: "risk.replay.count", text: "1"),
            KafkaHeader(name: "risk.failed.at", text: "2025-08-06T12:53:54.120Z"),
            KafkaHeader(name: "binary", value: [0xFF, 0x00]),
            KafkaHeader(name: "null", value: nil),
        ]
        #expect(ScoredEventEncoder.outputHeaders(for: input).map(\.name) == ["traceparent", "tracestate", "risk.replay.count", "binary", "null"])
        #expect(ScoredEventEncoder.outputHeaders(for: input)[3] == KafkaHeader(name: "binary", value: [0xFF, 0x00]))
    }

    @Test func theOutputRecordKeepsTheInputKey() throws {
        let input = KafkaRecord(
            topic: "account-lifecycle-events", partition: 2, offset: 9, key: Array("acc-42".utf8), value: Array("{}".utf8),
            headers: [KafkaHeader(name: "traceparent", text: "00-abc-def-01")]
        )
        let value = try Self.encoder().encode(try Self.event(), phoneRisk: Self.phoneRisk, numberScoring: Self.numberScoring, partial: false)
        let record = ScoredEventEncoder.record(for: input, value: value, topic: "account-lifecycle-scored")
        #expect(record.topic == "account-lifecycle-scored")
        #expect(record.key == input.key)
        #expect(record.partition == nil)
        #expect(record.headers == input.headers)
        #expect(try Self.object(try #require(record.value))["externalId"] as? String == "evt-1")
    }

    /// Encoded events with awkward text in every string field validate against schemas/scored-event.schema.json
    /// with Python's jsonschema (the corpus test's validator), and a broken one does not.
    @Test func encodedEventsValidateAgainstTheScoredEventSchema() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let awkward = "quote\" back\\slash \u{1}\u{1F} é 🙂 \u{2028}"
        let events: [LifecycleEvent] = [
            try Self.event(),
            try Self.event(
                externalId: String(repeating: "é", count: 128), accountId: awkward, deviceId: "dev\n1", emailAddress: "ü@b.example",
                originatingIp: "2001:db8::1", occurredAt: "2025-08-06T12:53:54.999999Z"
            ),
            try Self.event(externalId: awkward, occurredAt: "2024-02-29T23:59:59-08:00"),
        ]
        var files: [String] = []
        for (index, event) in events.enumerated() {
            for partial in [false, true] {
                let bytes = try Self.encoder().encode(
                    event, phoneRisk: Self.phoneRisk, numberScoring: Self.numberScoring, partial: partial,
                    numberScoringFetchedAt: partial ? Date(timeIntervalSince1970: 1_754_484_834) : nil)
                let file = directory.file("scored-\(index)-\(partial).json")
                try Data(bytes).write(to: URL(fileURLWithPath: file))
                files.append(file)
            }
        }
        // A control: phoneRisk whose score is a string breaks the schema, so the validator does check something.
        let broken = try Self.encoder().encode(
            try Self.event(), phoneRisk: Array(#"{"risk":{"score":"high"}}"#.utf8), numberScoring: Self.numberScoring, partial: false
        )
        let brokenFile = directory.file("broken.json")
        try Data(broken).write(to: URL(fileURLWithPath: brokenFile))

        let verdicts = try SchemaCorpusTests.validate(schema: "scored-event.schema.json", files: files + [brokenFile])
        for file in files {
            #expect(verdicts[file]?.valid == true, "\((file as NSString).lastPathComponent): \(verdicts[file]?.error ?? "no verdict")")
        }
        #expect(verdicts[brokenFile]?.valid == false)
    }
}
