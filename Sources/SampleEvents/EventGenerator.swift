import Foundation
import RiskEvents
import ScoringAPI
import ScoringSimulator

/// Synthetic lifecycle events for demos and load runs: deterministic for a seed, with a share that fails on purpose.
///
/// Every event is derived from the seed and its index alone, so `event(at:)` gives the same record for the same
/// seed on any machine, in any order. Ordinary events carry valid E.164 numbers of a dozen countries the scoring
/// sandbox knows (never with `9999` before the last two digits, which would select a sandbox fault), one of the five
/// lifecycle events, and the optional fields some of the time. A fraction of the events fail on purpose, through the
/// sandbox's fault suffixes (the last six digits of the number, see docs/scoring-sim.md) or by being invalid:
///
/// | share of failures | what | outcome with the default error policy |
/// |---|---|---|
/// | 25% | `99991N`, N = 1…3: the first N calls per provider fail (number scoring 4, phone risk 10019) | scored after retries |
/// | 15% | `999907`: number scoring answers 7 (timeout) on every call | retried, then dead-lettered `number-scoring` `7` |
/// | 10% | `999901`: number scoring answers 1 (general error) | dead-lettered at once, `number-scoring` `1` |
/// | 5% | `999905`: number scoring answers 5 (invalid number) | dead-lettered at once, `number-scoring` `5` |
/// | 10% | `999921`: phone risk status 500 (not attempted) | dead-lettered at once, `phone-risk` `500` |
/// | 10% | `999927`: phone risk error 11001 (invalid field) | dead-lettered at once, `phone-risk` `11001` |
/// | 5% | `999928`: phone risk error 12001 (missing field) | dead-lettered at once, `phone-risk` `12001` |
/// | 20% | a bad phone number, a missing field, an unknown lifecycle event or a bad e-mail address | dead-lettered at once, `validation` |
///
/// Account-level faults (`999920`, `999922`, `999925` error 10010, `999926`) and HTTP-level faults (`99993H`) are
/// left out on purpose: the first pause the whole worker, the second fail every number of a number-scoring batch.
public struct EventGenerator: Sendable {
    /// What the worker is meant to do with a generated event (with the default error policy and retry schedule).
    public enum Outcome: Sendable, Hashable, CustomStringConvertible {
        /// Scored at the first attempt.
        case scored
        /// Scored after each provider failed `failedCalls` times (the sandbox's transient `99991N` numbers).
        case scoredAfterRetries(failedCalls: Int)
        /// Dead-lettered with `source` and `code`; `retried` when the worker retries it until the attempts run out.
        case deadLetter(source: FailureSource, code: String, retried: Bool)

        /// True when the worker scores the event in the end.
        public var isScored: Bool {
            switch self {
            case .scored, .scoredAfterRetries: true
            case .deadLetter: false
            }
        }

        /// True when the record is not a valid event (a `validation` dead letter).
        public var isInvalid: Bool {
            if case .deadLetter(source: .validation, _, _) = self { return true }
            return false
        }

        /// `scored`, `scored after N failed calls` or `dead letter source/code`.
        public var description: String {
            switch self {
            case .scored: "scored"
            case .scoredAfterRetries(let calls): "scored after \(calls) failed calls"
            case .deadLetter(let source, let code, let retried): "dead letter \(source)/\(code)\(retried ? " after retries" : "")"
            }
        }
    }

    /// One generated record: its externalId (the record key), its JSON value and its intended outcome.
    public struct Event: Sendable, Hashable {
        /// The event's position in the generated sequence, from 0.
        public let index: Int
        /// The event's externalId, also the record key.
        public let externalId: String
        /// The record value: compact JSON with sorted keys.
        public let value: [UInt8]
        /// What the worker is meant to do with it.
        public let outcome: Outcome

        /// The record key: the externalId's UTF-8 bytes.
        public var key: [UInt8] { Array(externalId.utf8) }
    }

    /// The seed every event is derived from.
    public let seed: UInt64
    /// The share of events (0...1) that fail on purpose.
    public let failureFraction: Double

    /// A generator for `seed` where about `failureFraction` of the events (clamped to 0...1) fail on purpose.
    public init(seed: UInt64, failureFraction: Double = 0.05) {
        self.seed = seed
        self.failureFraction = failureFraction.isNaN ? 0 : min(max(failureFraction, 0), 1)
    }

    /// The events at `indices`, in order.
    public func events(_ indices: Range<Int>) -> [Event] {
        indices.map(event(at:))
    }

    /// The event at `index` (the same for the same seed and failure fraction, whatever else was generated).
    public func event(at index: Int) -> Event {
        var random = Mix64(seed: seed, index: UInt64(truncatingIfNeeded: index))
        let fails = random.unit() < failureFraction
        let failure = fails ? Self.failures[random.weightedIndex(Self.failures.map(\.weight))].kind : nil

        let externalId = "gen-\(seed)-\(Self.padded(index, 8))"
        let lifecycle = Self.lifecycleEvents[random.weightedIndex(Self.lifecycleEvents.map(\.weight))].event
        var fields: [String: JSONValue] = [
            "externalId": .string(externalId),
            "accountLifecycleEvent": .string(lifecycle.rawValue),
        ]
        let plan = Self.plans[random.below(Self.plans.count)]
        var digits = plan.callingCode + plan.prefixes[random.below(plan.prefixes.count)]
        for _ in 0..<plan.subscriberDigits { digits.append(Character(String(random.below(10)))) }
        digits = Self.avoidingFaults(digits)
        if random.unit() < 0.1 {
            // A formatted number is valid too: the worker removes the spaces.
            let rest = digits.dropFirst(plan.callingCode.count)
            fields["phoneNumber"] = .string("+\(plan.callingCode) \(rest.prefix(3)) \(rest.dropFirst(3))")
        } else {
            fields["phoneNumber"] = .string("+" + digits)
        }

        if random.unit() < 0.6 { fields["accountId"] = .string("acc-\(Self.padded(random.below(1_000_000), 6))") }
        if random.unit() < 0.4 { fields["deviceId"] = .string("dev-\(String(random.next() & 0xffff_ffff, radix: 16))") }
        if random.unit() < 0.5 {
            let domain = ["example.com", "example.org", "example.net", "mail.example.co.uk"][random.below(4)]
            fields["emailAddress"] = .string("user\(random.below(100_000))@\(domain)")
        }
        if random.unit() < 0.4 { fields["originatingIp"] = .string(Self.address(&random)) }
        if random.unit() < 0.7 {
            // A fixed start keeps the output deterministic: 2025-06-01T00:00:00Z, about one event a second.
            let milliseconds = 1_748_736_000_000 + Int64(index) * 1000 + Int64(random.below(1000))
            fields["occurredAt"] = .string(RFC3339Timestamp.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000)))
        }

        var outcome = Outcome.scored
        switch failure {
        case nil:
            break
        case .fault(let fault, let result):
            let number = String(digits.dropLast(6)) + fault.suffix
            fields["phoneNumber"] = .string("+" + number)
            outcome = result
        case .transient:
            let calls = 1 + random.below(3)
            fields["phoneNumber"] = .string("+" + String(digits.dropLast(6)) + Fault.transient(failures: calls).suffix)
            outcome = .scoredAfterRetries(failedCalls: calls)
        case .invalid:
            outcome = Self.spoil(&fields, digits: digits, choice: random.below(6))
        }
        return Event(index: index, externalId: externalId, value: JSONValue.object(fields).jsonBytes(), outcome: outcome)
    }

    // MARK: - Tables

    /// How an event fails on purpose.
    private enum FailureKind {
        /// The number ends with the suffix of a sandbox fault that gives `Outcome`.
        case fault(Fault, Outcome)
        /// The number ends with `99991N`, N chosen per event.
        case transient
        /// The record is not a valid event.
        case invalid
    }

    private static let failures: [(weight: Int, kind: FailureKind)] = [
        (25, .transient),
        (15, .fault(Fault.numberScoringCode(7), .deadLetter(source: .numberScoring, code: "7", retried: true))),
        (10, .fault(Fault.numberScoringCode(1), .deadLetter(source: .numberScoring, code: "1", retried: false))),
        (5, .fault(Fault.numberScoringCode(5), .deadLetter(source: .numberScoring, code: "5", retried: false))),
        (10, .fault(Fault.phoneRisk(.notAttempted), .deadLetter(source: .phoneRisk, code: "500", retried: false))),
        (10, .fault(Fault.phoneRisk(.invalidField), .deadLetter(source: .phoneRisk, code: "11001", retried: false))),
        (5, .fault(Fault.phoneRisk(.missingField), .deadLetter(source: .phoneRisk, code: "12001", retried: false))),
        (20, .invalid),
    ]

    private static let lifecycleEvents: [(weight: Int, event: AccountLifecycleEvent)] = [
        (40, .signIn), (30, .transact), (12, .create), (12, .update), (6, .delete),
    ]

    /// A country's mobile numbers: calling code, a national prefix, then random subscriber digits.
    private struct NumberPlan: Sendable {
        let callingCode: String
        let prefixes: [String]
        let subscriberDigits: Int
    }

    /// Mobile number shapes of countries in the sandbox's table, 11 to 13 digits long.
    private static let plans: [NumberPlan] = [
        NumberPlan(callingCode: "43", prefixes: ["650", "660", "664", "676", "699"], subscriberDigits: 7),
        NumberPlan(callingCode: "49", prefixes: ["151", "152", "160", "170", "176"], subscriberDigits: 8),
        NumberPlan(callingCode: "44", prefixes: ["7700", "7400", "7911", "7550"], subscriberDigits: 6),
        NumberPlan(callingCode: "1", prefixes: ["202555", "415555", "646555", "312555"], subscriberDigits: 4),
        NumberPlan(callingCode: "33", prefixes: ["6", "7"], subscriberDigits: 8),
        NumberPlan(callingCode: "34", prefixes: ["6"], subscriberDigits: 8),
        NumberPlan(callingCode: "39", prefixes: ["320", "333", "347", "380"], subscriberDigits: 7),
        NumberPlan(callingCode: "385", prefixes: ["91", "92", "95", "98"], subscriberDigits: 7),
        NumberPlan(callingCode: "91", prefixes: ["98", "97", "70", "88"], subscriberDigits: 8),
        NumberPlan(callingCode: "55", prefixes: ["119", "219"], subscriberDigits: 8),
        NumberPlan(callingCode: "61", prefixes: ["4"], subscriberDigits: 8),
        NumberPlan(callingCode: "81", prefixes: ["90", "80"], subscriberDigits: 8),
    ]

    // MARK: - Parts

    /// The digits with a `9999` before the last two changed, so that an ordinary number selects no sandbox fault.
    private static func avoidingFaults(_ digits: String) -> String {
        guard digits.count >= 10, digits.dropLast(2).hasSuffix("9999") else { return digits }
        var characters = Array(digits)
        characters[characters.count - 3] = "8"
        return String(characters)
    }

    /// Makes the fields an invalid event and returns its validation dead letter.
    private static func spoil(_ fields: inout [String: JSONValue], digits: String, choice: Int) -> Outcome {
        let code: String
        switch choice {
        case 0:
            fields["phoneNumber"] = .string(digits)  // no leading +
            code = "invalid-phone-number"
        case 1:
            fields["phoneNumber"] = .string("+" + digits.prefix(6))  // too short
            code = "invalid-phone-number"
        case 2:
            fields["phoneNumber"] = nil
            code = "missing-field:phoneNumber"
        case 3:
            fields["accountLifecycleEvent"] = nil
            code = "missing-field:accountLifecycleEvent"
        case 4:
            fields["accountLifecycleEvent"] = .string("login")
            code = "invalid-lifecycle-event"
        default:
            fields["emailAddress"] = .string("not an e-mail address")
            code = "invalid-email-address"
        }
        return .deadLetter(source: .validation, code: code, retried: false)
    }

    /// An address from the documentation ranges (RFC 5737, RFC 3849), IPv4 three times out of four.
    private static func address(_ random: inout Mix64) -> String {
        if random.below(4) == 3 { return "2001:db8::\(String(random.below(0xffff) + 1, radix: 16))" }
        let network = ["192.0.2", "198.51.100", "203.0.113"][random.below(3)]
        return "\(network).\(random.below(254) + 1)"
    }

    /// `value` in decimal, left-padded with zeros to `width` digits.
    private static func padded(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}

/// SplitMix64 seeded from a seed and an index, so that each event has its own independent stream.
private struct Mix64 {
    private var state: UInt64

    init(seed: UInt64, index: UInt64) {
        state = Self.mix(seed &+ Self.mix(index &+ 0x632b_e59b_d9b4_e019))
    }

    /// The next 64 random bits.
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        return Self.mix(state)
    }

    /// A number in `0..<bound` (bound > 0).
    mutating func below(_ bound: Int) -> Int {
        Int(truncatingIfNeeded: next() % UInt64(max(bound, 1)))
    }

    /// A number in `0..<1`.
    mutating func unit() -> Double {
        Double(next() >> 11) / Double(UInt64(1) << 53)
    }

    /// An index into `weights`, each chosen with probability proportional to its weight.
    mutating func weightedIndex(_ weights: [Int]) -> Int {
        var pick = below(weights.reduce(0, +))
        for (index, weight) in weights.enumerated() {
            if pick < weight { return index }
            pick -= weight
        }
        return weights.count - 1
    }

    /// SplitMix64's finaliser.
    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
