import FixtureTestSupport
import Foundation
import ScoringAPI
import Testing
@testable import RiskEvents

@Suite("LifecycleEvent decoding")
struct LifecycleEventTests {
    private func decode(_ text: String) throws(ValidationError) -> LifecycleEvent {
        try LifecycleEvent.decode(Array(text.utf8))
    }

    private func code(_ text: String) -> String? {
        code(Array(text.utf8))
    }

    private func code(_ bytes: [UInt8]) -> String? {
        do {
            _ = try LifecycleEvent.decode(bytes)
            return nil
        } catch {
            return error.code
        }
    }

    @Test func aCompleteEventKeepsEveryField() throws {
        let event = try decode(
            """
            {"externalId":"evt-1","accountLifecycleEvent":"sign-in","phoneNumber":"+43 (650) 123-45.67",
             "accountId":"acc","deviceId":"dev","emailAddress":"a@b.c","originatingIp":"2001:db8::1",
             "occurredAt":"2025-08-06T12:53:53.5+02:00","unknown":{"nested":[1,2,{"x":null}]}}
            """
        )
        #expect(event.externalId == "evt-1")
        #expect(event.accountLifecycleEvent == .signIn)
        #expect(event.phoneNumber.e164 == "+436501234567")
        #expect(event.originalPhoneNumber == "+43 (650) 123-45.67")
        #expect(event.accountId == "acc")
        #expect(event.deviceId == "dev")
        #expect(event.emailAddress == "a@b.c")
        #expect(event.originatingIp == "2001:db8::1")
        #expect(event.occurredAt == "2025-08-06T12:53:53.5+02:00")
    }

    @Test func nullOptionalsAreAbsent() throws {
        let event = try decode(
            #"{"externalId":"e","accountLifecycleEvent":"delete","phoneNumber":"+12345678","accountId":null,"occurredAt":null}"#
        )
        #expect(event.accountId == nil)
        #expect(event.occurredAt == nil)
        #expect(event.accountLifecycleEvent == .delete)
    }

    @Test func escapesAreDecoded() throws {
        let event = try decode(#"{"externalId":"\u00e9\ud83d\ude00\n\"\\\/","accountLifecycleEvent":"create","phoneNumber":"+12345678"}"#)
        #expect(event.externalId == "é😀\n\"\\/")
    }

    @Test(arguments: [
        (#"{"accountLifecycleEvent":"create","phoneNumber":"+12345678"}"#, "missing-field:externalId"),
        (#"{"externalId":"e","phoneNumber":"+12345678"}"#, "missing-field:accountLifecycleEvent"),
        (#"{"externalId":"e","accountLifecycleEvent":"create"}"#, "missing-field:phoneNumber"),
        (#"{"externalId":null,"accountLifecycleEvent":"create","phoneNumber":"+12345678"}"#, "missing-field:externalId"),
        (#"{"externalId":1,"accountLifecycleEvent":"create","phoneNumber":"+12345678"}"#, "invalid-type:externalId"),
        (#"{"externalId":"e","accountLifecycleEvent":["create"],"phoneNumber":"+12345678"}"#, "invalid-type:accountLifecycleEvent"),
        (#"{"externalId":"e","accountLifecycleEvent":"create","phoneNumber":false}"#, "invalid-type:phoneNumber"),
        (#"{"externalId":"e","accountLifecycleEvent":"create","phoneNumber":"+12345678","accountId":1}"#, "invalid-type:accountId"),
        (#"{"externalId":"e","accountLifecycleEvent":"create","phoneNumber":"+12345678","deviceId":true}"#, "invalid-type:deviceId"),
        (#"{"externalId":"e","accountLifecycleEvent":"create","phoneNumber":"+12345678","emailAddress":{}}"#, "invalid-type:emailAddress"),
        (#"{"externalId":"e","accountLifecycleEvent":"create","phoneNumber":"+12345678","originatingIp":3}"#, "invalid-type:originatingIp"),
        (#"{"externalId":"e","accountLifecycleEvent":"create","phoneNumber":"+12345678","occurredAt":0}"#, "invalid-type:occurredAt"),
        (#"{"externalId":"","accountLifecycleEvent":"create","phoneNumber":"+12345678"}"#, "invalid-external-id"),
        (#"{"externalId":"e","accountLifecycleEvent":"Create","phoneNumber":"+12345678"}"#, "invalid-lifecycle-event"),
        (#"{"externalId":"e","accountLifecycleEvent":"create","phoneNumber":"+1234567"}"#, "invalid-phone-number"),
        (#"{"externalId":"e","accountLifecycleEvent":"create","phoneNumber":"+12345678","emailAddress":"@b"}"#, "invalid-email-address"),
        (#"{"externalId":"e","accountLifecycleEvent":"create","phoneNumber":"+12345678","originatingIp":"1.2.3"}"#, "invalid-originating-ip"),
        (#"{"externalId":"e","accountLifecycleEvent":"create","phoneNumber":"+12345678","occurredAt":"2025-13-01T00:00:00Z"}"#, "invalid-occurred-at"),
        // The first problem in field order wins.
        (#"{"externalId":"","accountLifecycleEvent":"nope","phoneNumber":"x"}"#, "invalid-external-id"),
        (#"{"externalId":"e","accountLifecycleEvent":"nope","phoneNumber":"x"}"#, "invalid-lifecycle-event"),
        ("[]", "not-an-object"),
        ("42", "not-an-object"),
        ("true", "not-an-object"),
        (#""text""#, "not-an-object"),
        ("null", "not-an-object"),
        ("", "invalid-json"),
        ("   ", "invalid-json"),
        ("{", "invalid-json"),
        (#"{"a":}"#, "invalid-json"),
        (#"{"a":1}}"#, "invalid-json"),
        (#"{"a":[1,]}"#, "invalid-json"),
        (#"{"a":-}"#, "invalid-json"),
        (#"{"a":1.}"#, "invalid-json"),
        (#"{"a":1e}"#, "invalid-json"),
        (#"{"a":tru}"#, "invalid-json"),
        (#"{"a":"\x"}"#, "invalid-json"),
        (#"{"a":"\u12"}"#, "invalid-json"),
        (#"{"a":"\udc00"}"#, "invalid-json"),
        (#"{"a":"\ud800\u0041"}"#, "invalid-json"),
        (#"{"a":Infinity}"#, "invalid-json"),
        ("{\"a\":1} // comment", "invalid-json"),
    ])
    func eachProblemHasItsCode(input: String, expected: String) {
        #expect(code(input) == expected, "\(input)")
    }

    @Test func sizeAndEncodingAreCheckedFirst() {
        let padding = String(repeating: "x", count: LifecycleEvent.maximumSize)
        let large = #"{"externalId":"e","accountLifecycleEvent":"create","phoneNumber":"+12345678","pad":""# + padding + #""}"#
        #expect(code(large) == "too-large")
        let exact = #"{"externalId":"e","accountLifecycleEvent":"create","phoneNumber":"+12345678","pad":""#
        let fill = String(repeating: "y", count: LifecycleEvent.maximumSize - exact.utf8.count - 2)
        #expect(code(exact + fill + "\"}") == nil, "exactly 64 KiB is accepted")
        #expect(code([0x7B, 0x22, 0xC3, 0x28, 0x22, 0x7D]) == "invalid-utf8")
        #expect(code([0xED, 0xA0, 0x80]) == "invalid-utf8", "an encoded surrogate is not UTF-8")
        #expect(code(Array(repeating: 0xFF, count: LifecycleEvent.maximumSize + 1)) == "too-large")
        #expect(throws: ValidationError.self) { try LifecycleEvent.decode(value: nil) }
    }

    @Test func deepNestingIsHandledWithoutRecursion() {
        let depth = 30_000
        let nested = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        let event = #"{"externalId":"e","accountLifecycleEvent":"create","phoneNumber":"+12345678","deep":"# + nested + "}"
        #expect(code(event) == nil)
        #expect(code(String(repeating: "[", count: depth)) == "invalid-json")
        #expect(code(String(repeating: "{\"a\":", count: 10_000)) == "invalid-json")
    }

    @Test func errorsCarryAHumanMessage() {
        do {
            _ = try decode(#"{"externalId":"e","accountLifecycleEvent":"create","phoneNumber":"+43650"}"#)
            Issue.record("accepted a 5-digit number")
        } catch {
            #expect(error.code == "invalid-phone-number")
            #expect(error.message.contains("phoneNumber"))
            #expect(error.description.hasPrefix("invalid-phone-number: "))
        }
    }

    /// Random and mutated inputs: decoding never traps, always gives an event or a ValidationError with a known code,
    /// and an accepted event always re-validates (its phone number is E.164, its id 1...128 code points).
    @Test func fuzzedInputsNeverTrap() {
        var generator = SplitMix64(seed: 0x5EED_1234)
        let seeds: [[UInt8]] = [
            Array(#"{"externalId":"evt-1","accountLifecycleEvent":"create","phoneNumber":"+436501234567"}"#.utf8),
            Array(#"{"externalId":"é😀","accountLifecycleEvent":"sign-in","phoneNumber":"+1 (415) 555-0100","accountId":null,"emailAddress":"a@b","originatingIp":"::ffff:1.2.3.4","occurredAt":"2024-02-29T23:59:59.123Z","x":[1,-2.5e3,true,false,null,{"y":"\u00e9"}]}"#.utf8),
        ]
        let alphabet = Array(#"{}[]":,.-+0123456789eEtruefalsnl\ u"#.utf8) + [0x00, 0x0A, 0x7F, 0x80, 0xC3, 0xA9, 0xFF, 0xED, 0xF0]
        let knownCodes: Set<String> = [
            "too-large", "invalid-utf8", "invalid-json", "not-an-object", "invalid-external-id",
            "invalid-lifecycle-event", "invalid-phone-number", "invalid-email-address", "invalid-originating-ip",
            "invalid-occurred-at",
        ]
        var accepted = 0
        var rejected = 0
        for iteration in 0..<30_000 {
            var bytes: [UInt8]
            if iteration % 5 == 0 {
                bytes = (0..<Int(generator.next() % 200)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            } else {
                bytes = seeds[Int(generator.next() % UInt64(seeds.count))]
                for _ in 0..<(1 + Int(generator.next() % 4)) {
                    guard !bytes.isEmpty else { break }
                    let position = Int(generator.next() % UInt64(bytes.count))
                    switch generator.next() % 4 {
                    case 0: bytes[position] = alphabet[Int(generator.next() % UInt64(alphabet.count))]
                    case 1: bytes.remove(at: position)
                    case 2: bytes.insert(alphabet[Int(generator.next() % UInt64(alphabet.count))], at: position)
                    default: bytes = Array(bytes[..<position])
                    }
                }
            }
            do {
                let event = try LifecycleEvent.decode(bytes)
                accepted += 1
                #expect((1...128).contains(event.externalId.unicodeScalars.count))
                #expect((try? PhoneNumber(event.phoneNumber.e164)) != nil)
            } catch {
                rejected += 1
                let base = error.code.split(separator: ":").first.map(String.init) ?? ""
                let known = knownCodes.contains(error.code) || base == "missing-field" || base == "invalid-type"
                #expect(known, "unknown code \(error.code)")
                #expect(!error.message.isEmpty)
            }
        }
        #expect(accepted > 100, "the mutations should leave some events valid")
        #expect(rejected > 10_000)
    }
}
