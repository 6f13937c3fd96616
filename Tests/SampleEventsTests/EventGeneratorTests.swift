import Foundation
import RiskEvents
import RiskPolicy
import SampleEvents
import ScoringAPI
import ScoringSimulator
import Testing

/// The synthetic events of `risk-worker publish --generate`: deterministic, valid where meant to be, failing as
/// intended through the sandbox's fault suffixes or validation.
@Suite("Event generator")
struct EventGeneratorTests {
    @Test func theSameSeedGivesTheSameEventsAndAnotherSeedOtherOnes() {
        let first = EventGenerator(seed: 42, failureFraction: 0.2).events(0..<500)
        let again = EventGenerator(seed: 42, failureFraction: 0.2).events(0..<500)
        let other = EventGenerator(seed: 43, failureFraction: 0.2).events(0..<500)
        #expect(first == again)
        #expect(first.map(\.value) != other.map(\.value))
        #expect(Set(first.map(\.externalId)).count == 500, "externalIds are unique within a run")
        #expect(Set(first.map(\.externalId)).isDisjoint(with: other.map(\.externalId)), "another seed, other ids")
    }

    @Test func anEventDependsOnlyOnTheSeedAndItsIndex() {
        let generator = EventGenerator(seed: 7)
        let run = generator.events(0..<100)
        #expect(generator.event(at: 73) == run[73])
        #expect(generator.events(50..<60) == Array(run[50..<60]))
        #expect(run.enumerated().allSatisfy { $0.offset == $0.element.index })
    }

    @Test func eventsMeantToBeScoredAreValidAndCoverCountriesEventsAndOptionalFields() throws {
        let events = EventGenerator(seed: 1, failureFraction: 0).events(0..<2000)
        #expect(events.allSatisfy { $0.outcome == .scored })
        var lifecycle: Set<AccountLifecycleEvent> = []
        var countries: Set<String> = []
        var optional: [String: Int] = [:]
        var formatted = 0
        for event in events {
            let decoded = try LifecycleEvent.decode(value: event.value)
            #expect(decoded.externalId == event.externalId)
            #expect(event.key == Array(event.externalId.utf8))
            lifecycle.insert(decoded.accountLifecycleEvent)
            let country = try #require(Country.lookup(msisdn: decoded.phoneNumber.msisdn), "\(decoded.phoneNumber) is in the sandbox's table")
            countries.insert(country.iso2)
            #expect(Fault.of(msisdn: decoded.phoneNumber.msisdn) == nil, "\(decoded.phoneNumber) selects no sandbox fault")
            if decoded.originalPhoneNumber != decoded.phoneNumber.e164 { formatted += 1 }
            for (name, value) in [
                ("accountId", decoded.accountId), ("deviceId", decoded.deviceId), ("emailAddress", decoded.emailAddress),
                ("originatingIp", decoded.originatingIp), ("occurredAt", decoded.occurredAt),
            ] where value != nil {
                optional[name, default: 0] += 1
            }
        }
        #expect(lifecycle == Set(AccountLifecycleEvent.allCases))
        #expect(countries.count >= 10, "numbers from several countries: \(countries.sorted())")
        #expect(formatted > 0, "some numbers are sent formatted")
        for name in ["accountId", "deviceId", "emailAddress", "originatingIp", "occurredAt"] {
            let count = optional[name, default: 0]
            #expect(count > 200 && count < 1900, "\(name) is sometimes present, sometimes not (\(count) of 2000)")
        }
    }

    @Test func failingEventsFailTheWayTheirOutcomeSays() throws {
        let events = EventGenerator(seed: 9, failureFraction: 1).events(0..<1000)
        var outcomes: [EventGenerator.Outcome: Int] = [:]
        for event in events {
            outcomes[event.outcome, default: 0] += 1
            switch event.outcome {
            case .scored:
                Issue.record("with a failure fraction of 1 every event fails on purpose: \(event.externalId)")
            case .scoredAfterRetries(let calls):
                let decoded = try LifecycleEvent.decode(value: event.value)
                #expect(Fault.of(msisdn: decoded.phoneNumber.msisdn) == .transient(failures: calls))
                #expect((1...3).contains(calls), "fewer failed calls than the default 5 attempts")
            case .deadLetter(source: .validation, let code, let retried):
                #expect(!retried)
                #expect(throws: ValidationError.self) { try LifecycleEvent.decode(value: event.value) }
                do throws(ValidationError) {
                    _ = try LifecycleEvent.decode(value: event.value)
                } catch {
                    #expect(error.code == code, "\(String(decoding: event.value, as: UTF8.self))")
                }
            case .deadLetter(let source, let code, let retried):
                let decoded = try LifecycleEvent.decode(value: event.value)
                let fault = Fault.of(msisdn: decoded.phoneNumber.msisdn)
                switch (source, fault) {
                case (.numberScoring, .numberScoringCode(let response)?):
                    #expect(String(response) == code)
                    #expect(ErrorPolicy.standard.action(source: .numberScoring, code: code) == (retried ? .retry : .deadLetter))
                case (.phoneRisk, .phoneRisk(let failure)?):
                    #expect([Fault.PhoneRiskFailure.notAttempted, .invalidField, .missingField].contains(failure))
                    #expect(!retried)
                    #expect(ErrorPolicy.standard.action(source: .phoneRisk, code: code) == .deadLetter)
                default:
                    Issue.record("\(event.outcome) does not match the number's fault \(String(describing: fault))")
                }
            }
        }
        let kinds = Set(outcomes.keys.map { outcome -> String in
            switch outcome {
            case .scored: "scored"
            case .scoredAfterRetries: "retried"
            case .deadLetter(let source, _, let retried): "\(source)\(retried ? "-retried" : "")"
            }
        })
        #expect(kinds == ["retried", "number-scoring-retried", "number-scoring", "phone-risk", "validation"])
        let validationCodes = Set(outcomes.keys.compactMap { outcome -> String? in
            if case .deadLetter(.validation, let code, _) = outcome { return code }
            return nil
        })
        #expect(validationCodes.isSuperset(of: ["invalid-phone-number", "missing-field:phoneNumber", "missing-field:accountLifecycleEvent"]))
    }

    @Test func noGeneratedEventPausesTheWorker() throws {
        for event in EventGenerator(seed: 3, failureFraction: 1).events(0..<1000) where !event.outcome.isInvalid {
            let decoded = try LifecycleEvent.decode(value: event.value)
            switch Fault.of(msisdn: decoded.phoneNumber.msisdn) {
            case .phoneRisk(let failure)?:
                #expect(![.featureNotEnabled, .notAuthorized, .suspended, .hardCap].contains(failure), "account-level")
            case .numberScoringCode(let response)?:
                #expect(ErrorPolicy.standard.action(source: .numberScoring, code: String(response)) != .pause)
            case .http?, .omitRecord?:
                Issue.record("HTTP-level faults fail whole number-scoring batches: \(decoded.phoneNumber)")
            case .transient?, nil:
                break
            }
        }
    }

    @Test func theFailureFractionIsRoughlyTheShareOfFailingEvents() {
        let events = EventGenerator(seed: 5, failureFraction: 0.05).events(0..<10_000)
        let failing = events.filter { $0.outcome != .scored }.count
        #expect((350...650).contains(failing), "about 5% of 10,000 fail on purpose: \(failing)")
        #expect(EventGenerator(seed: 5, failureFraction: 0).events(0..<1000).allSatisfy { $0.outcome == .scored })
        #expect(EventGenerator(seed: 5, failureFraction: 7).failureFraction == 1, "clamped to 0...1")
    }
}
