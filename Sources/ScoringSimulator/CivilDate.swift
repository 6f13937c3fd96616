import ScoringAPI

/// Fast UTC date formatting without Foundation formatters, for the simulator's answers.
extension CivilDate {
    /// `YYYY-MM-DD` for a day number counted from 1970-01-01.
    static func day(_ daysSinceEpoch: Int) -> String {
        let (year, month, day) = date(days: daysSinceEpoch)
        return "\(year)-\(pad(month, 2))-\(pad(day, 2))"
    }

    /// `YYYY-MM-DDTHH:MM:SS.fffZ` (fractionDigits 3) or with 6 fraction digits.
    static func timestamp(secondsSinceEpoch: Double, fractionDigits: Int) -> String {
        let whole = Int(secondsSinceEpoch.rounded(.down))
        let days = whole >= 0 ? whole / 86_400 : (whole - 86_399) / 86_400
        let secondOfDay = whole - days * 86_400
        let scale = fractionDigits == 6 ? 1_000_000.0 : 1_000.0
        let fraction = min(Int((secondsSinceEpoch - Double(whole)) * scale), Int(scale) - 1)
        return day(days) + "T\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))"
            + ".\(pad(fraction, fractionDigits))Z"
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
