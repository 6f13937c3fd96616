import Foundation
import ScoringAPI
import Testing

@Suite struct CivilDateTests {
    @Test func knownDays() {
        #expect(CivilDate.days(year: 1970, month: 1, day: 1) == 0)
        #expect(CivilDate.days(year: 2025, month: 6, day: 21) == 20260)
        #expect(CivilDate.days(year: 1969, month: 12, day: 31) == -1)
        #expect(CivilDate.days(year: 2000, month: 3, day: 1) == 11017)
        #expect(CivilDate.date(days: 20260) == (2025, 6, 21))
        #expect(CivilDate.date(days: -1) == (1969, 12, 31))
        #expect(CivilDate.date(days: CivilDate.days(year: 2024, month: 2, day: 29)) == (2024, 2, 29))
    }

    @Test func agreesWithFoundationsGregorianCalendarAfterItsJulianCutover() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
        for days in stride(from: -120_000, through: 146_097, by: 37) {
            let parts = calendar.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: Double(days) * 86_400))
            let date = CivilDate.date(days: days)
            #expect(date.year == parts.year && date.month == parts.month && date.day == parts.day, "\(days)")
            #expect(CivilDate.days(year: date.year, month: date.month, day: date.day) == days)
        }
    }
}
