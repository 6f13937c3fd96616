import ScoringAPI
import Testing
@testable import ScoringSimulator

@Suite struct DeterminismTests {
    @Test func faultSuffixes() {
        for code in 1...8 { #expect(Fault.of(msisdn: "43650129999\(0)\(code)") == .numberScoringCode(code)) }
        #expect(Fault.of(msisdn: "4365012999900") == nil)
        #expect(Fault.of(msisdn: "4365012999909") == nil)
        #expect(Fault.of(msisdn: "4365012999913") == .transient(failures: 3))
        #expect(Fault.of(msisdn: "4365012999929") == .phoneRisk(.partial))
        #expect(Fault.of(msisdn: "4365012999931") == .http(.tooManyRequests))
        #expect(Fault.of(msisdn: "4365012999937") == nil)
        #expect(Fault.of(msisdn: "4365012999940") == .omitRecord)
        #expect(Fault.of(msisdn: "436501234567") == nil)
        #expect(Fault.of(msisdn: "99991") == nil)
    }

    @Test func everyFaultsSuffixSelectsIt() {
        var faults: [Fault] = [.omitRecord]
        faults += (1...8).map { .numberScoringCode($0) }
        faults += (1...9).map { .transient(failures: $0) }
        faults += Fault.PhoneRiskFailure.allCases.map { .phoneRisk($0) }
        faults += Fault.HTTPFault.allCases.map { .http($0) }
        for fault in faults {
            #expect(fault.suffix.count == 6)
            #expect(Fault.of(msisdn: "4365012" + fault.suffix) == fault)
        }
    }

    @Test func profilesAreDeterministicAndConsistent() throws {
        var levels: Set<String> = []
        for index in 0..<2000 {
            let msisdn = "4917\(10_000_000 + index * 7919)"
            let a = try #require(NumberProfile(msisdn: msisdn))
            let b = try #require(NumberProfile(msisdn: msisdn))
            #expect(a.score == b.score && a.currentCarrier == b.currentCarrier && a.firstSeenDay == b.firstSeenDay)
            #expect((0...1000).contains(a.score))
            #expect(a.country.iso2 == "DE")
            #expect(a.portedTimes == 0 ? a.firstPortedDay == nil : (a.firstPortedDay ?? 0) <= (a.lastPortedDay ?? 0))
            #expect(a.portedTimes == 0 || a.lineType == "mobile")
            #expect(a.social["bukalapak"]?.has != "yes")
            levels.insert(a.risk.level)
        }
        #expect(levels == ["low", "medium-low", "medium-high", "high"])
        #expect(NumberProfile(msisdn: "8881234567") == nil)
    }

    @Test func countryTable() {
        #expect(Country.all.count >= 30)
        #expect(Set(Country.all.map(\.callingCode)).count == Country.all.count)
        for country in Country.all {
            #expect(!country.carriers.isEmpty)
            #expect(country.iso2.count == 2 && country.iso3.count == 3)
            for carrier in country.carriers {
                #expect(carrier.mcc.count == 3, "\(carrier.name)")
                #expect((2...3).contains(carrier.mnc.count), "\(carrier.name)")
            }
        }
        #expect(Country.lookup(msisdn: "385912345678")?.name == "Croatia")
        #expect(Country.lookup(msisdn: "14155550100")?.iso2 == "US")
    }

    @Test func civilDates() {
        #expect(CivilDate.day(0) == "1970-01-01")
        #expect(CivilDate.days(year: 2025, month: 6, day: 21) == 20260)
        #expect(CivilDate.day(20260) == "2025-06-21")
        #expect(CivilDate.day(CivilDate.days(year: 2024, month: 2, day: 29)) == "2024-02-29")
        #expect(CivilDate.timestamp(secondsSinceEpoch: 1_750_526_516.526, fractionDigits: 3) == "2025-06-21T17:21:56.526Z")
    }
}
