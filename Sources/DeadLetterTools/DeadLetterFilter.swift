import Foundation
import RiskEvents

/// Which dead letters a `dlq show`, `dlq stats` or `replay` selects: codes, sources, a failure-time window and a
/// range of one dead-letter partition; every part given must match (an empty part matches everything).
///
/// Codes are exact `risk.error.code` values or patterns whose last characters are `x` digits, as in the error
/// policy (`http-5xx`, `11xxx`). Times are inclusive at both ends and compare `risk.failed.at`. Offsets are inclusive.
public struct DeadLetterFilter: Sendable, Hashable {
    /// The codes or code patterns asked for (`--code`, repeatable); empty: any code.
    public private(set) var codes: [String]
    /// The sources asked for (`--source`); empty: any source.
    public private(set) var sources: Set<FailureSource>
    /// Failures at or after this time (`--since`).
    public private(set) var since: Date?
    /// Failures at or before this time (`--until`).
    public private(set) var until: Date?
    /// The one dead-letter partition to read (`--partition`); nil: every partition.
    public private(set) var partition: Int32?
    /// The first dead-letter offset to read in ``partition`` (`--from-offset`).
    public private(set) var fromOffset: Int64?
    /// The last dead-letter offset to read in ``partition`` (`--to-offset`).
    public private(set) var toOffset: Int64?

    private let patterns: [ErrorCodePattern]

    /// A bad filter argument: one line naming the option.
    public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        /// The line to show, such as `--code: 'a b' is not a dead-letter code`.
        public var message: String

        /// A problem with this message.
        public init(_ message: String) { self.message = message }

        /// The message.
        public var description: String { message }
    }

    /// A filter matching every dead letter.
    public static let all = DeadLetterFilter()

    private init() {
        codes = []
        sources = []
        patterns = []
    }

    /// A filter from already parsed parts; throws when a code is not a code or pattern, the window is reversed,
    /// or the offsets are given without a partition or reversed.
    public init(
        codes: [String] = [],
        sources: Set<FailureSource> = [],
        since: Date? = nil,
        until: Date? = nil,
        partition: Int32? = nil,
        fromOffset: Int64? = nil,
        toOffset: Int64? = nil
    ) throws(Problem) {
        var patterns: [ErrorCodePattern] = []
        for code in codes {
            guard let pattern = ErrorCodePattern(deadLetterCode: code) else {
                throw Problem(
                    "--code: '\(Self.excerpt(code))' is not a dead-letter code (such as 7, 10019, http-503, http-5xx, transport, timeout, decoding, invalid-phone-number, missing-field:externalId)"
                )
            }
            patterns.append(pattern)
        }
        if let since, let until, since > until {
            throw Problem("--since (\(RFC3339Timestamp.string(from: since))) is after --until (\(RFC3339Timestamp.string(from: until)))")
        }
        if let partition, partition < 0 { throw Problem("--partition: \(partition) is negative") }
        if partition == nil, fromOffset != nil || toOffset != nil {
            throw Problem("--from-offset and --to-offset need --partition")
        }
        if let fromOffset, fromOffset < 0 { throw Problem("--from-offset: \(fromOffset) is negative") }
        if let toOffset, toOffset < 0 { throw Problem("--to-offset: \(toOffset) is negative") }
        if let fromOffset, let toOffset, fromOffset > toOffset {
            throw Problem("--from-offset (\(fromOffset)) is after --to-offset (\(toOffset))")
        }
        self.codes = codes
        self.sources = sources
        self.since = since
        self.until = until
        self.partition = partition
        self.fromOffset = fromOffset
        self.toOffset = toOffset
        self.patterns = patterns
    }

    /// A filter from command-line text: `--source` names and `--since`/`--until` as RFC 3339 or relative to `now`
    /// (`30s`, `15m`, `2h`, `7d`, `1w`: that long before `now`).
    public init(
        codes: [String] = [],
        sources: [String],
        since: String? = nil,
        until: String? = nil,
        partition: Int32? = nil,
        fromOffset: Int64? = nil,
        toOffset: Int64? = nil,
        now: Date
    ) throws(Problem) {
        var parsedSources: Set<FailureSource> = []
        for text in sources {
            guard let source = FailureSource(rawValue: text) else {
                let allowed = FailureSource.allCases.map(\.rawValue).joined(separator: ", ")
                throw Problem("--source: '\(Self.excerpt(text))' is not one of \(allowed)")
            }
            parsedSources.insert(source)
        }
        let sinceDate = try since.map { text throws(Problem) in try Self.time(text, option: "--since", now: now) }
        let untilDate = try until.map { text throws(Problem) in try Self.time(text, option: "--until", now: now) }
        try self.init(
            codes: codes, sources: parsedSources, since: sinceDate, until: untilDate,
            partition: partition, fromOffset: fromOffset, toOffset: toOffset
        )
    }

    /// Whether validation failures were asked for explicitly (`--source validation`): only then are they replayed.
    public var includesValidation: Bool { sources.contains(.validation) }

    /// Whether a dead letter's source, code and failure time match (the partition range is applied by the scan).
    public func matches(_ deadLetter: DeadLetter) -> Bool {
        if !sources.isEmpty, !sources.contains(deadLetter.source) { return false }
        if !patterns.isEmpty {
            let code = Array(deadLetter.code.utf8)
            if !patterns.contains(where: { $0.matches(code) }) { return false }
        }
        if let since, deadLetter.failedAt < since { return false }
        if let until, deadLetter.failedAt > until { return false }
        return true
    }

    /// Whether a dead-letter record at `partition`/`offset` is inside the partition range.
    public func contains(partition: Int32, offset: Int64) -> Bool {
        guard let only = self.partition else { return true }
        guard partition == only else { return false }
        if let fromOffset, offset < fromOffset { return false }
        if let toOffset, offset > toOffset { return false }
        return true
    }

    /// Reads a point in time: RFC 3339 (`2025-08-06T12:00:00Z`), or a positive amount and unit (`s`, `m`, `h`,
    /// `d`, `w`) meaning that long before `now`; `option` names the flag in the problem.
    public static func time(_ text: String, option: String, now: Date) throws(Problem) -> Date {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let date = RFC3339Timestamp.date(from: trimmed) { return date }
        if let seconds = relativeSeconds(trimmed) { return now.addingTimeInterval(-seconds) }
        throw Problem(
            "\(option): '\(excerpt(text))' is neither an RFC 3339 time (2025-08-06T12:00:00Z) nor a duration such as 30m, 2h or 7d"
        )
    }

    /// The seconds of a relative duration such as `90s`, `30m`, `2h`, `7d`, `1w`; nil when it is not one.
    public static func relativeSeconds(_ text: String) -> TimeInterval? {
        guard let unit = text.last, let amount = Int(text.dropLast()), amount > 0,
            text.dropLast().allSatisfy({ $0.isASCII && $0.isNumber })
        else { return nil }
        let multiplier: TimeInterval
        switch unit {
        case "s": multiplier = 1
        case "m": multiplier = 60
        case "h": multiplier = 3600
        case "d": multiplier = 86_400
        case "w": multiplier = 604_800
        default: return nil
        }
        let seconds = TimeInterval(amount) * multiplier
        // More than a thousand years back is a typo, not a window.
        return seconds <= 1000 * 365 * 86_400 ? seconds : nil
    }

    /// Whether `code` is a dead-letter code or code pattern this filter accepts.
    public static func isValidCode(_ code: String) -> Bool { ErrorCodePattern(deadLetterCode: code) != nil }

    private static func excerpt(_ text: String) -> String {
        let cleaned = String(String.UnicodeScalarView(text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
        return cleaned.count > 60 ? String(cleaned.prefix(59)) + "…" : cleaned
    }
}
