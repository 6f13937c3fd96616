import Foundation
import RiskEvents

/// Counts of dead letters by source and code, with the oldest and newest failure time of each, as a table or JSON.
public struct DeadLetterStats: Sendable, Hashable {
    /// The dead letters of one source and code.
    public struct Group: Sendable, Hashable {
        /// The failing step.
        public var source: FailureSource
        /// The `risk.error.code`.
        public var code: String
        /// How many dead letters.
        public var count: Int
        /// The earliest `risk.failed.at`.
        public var oldest: Date
        /// The latest `risk.failed.at`.
        public var newest: Date
    }

    private struct Key: Hashable {
        var source: FailureSource
        var code: String
    }

    private var groupsByKey: [Key: Group] = [:]
    /// Readable dead letters counted.
    public private(set) var total = 0
    /// Records of the dead-letter topic that are not readable dead letters.
    public private(set) var unreadable = 0

    /// Empty counts.
    public init() {}

    /// Counts one scanned record, if the filter selects it (unreadable records are counted apart, unfiltered).
    public mutating func add(_ entry: DeadLetterScan.Entry, filter: DeadLetterFilter = .all) {
        switch entry.content {
        case .deadLetter(let info):
            guard filter.matches(info.deadLetter), filter.contains(partition: entry.partition, offset: entry.offset) else { return }
            add(info.deadLetter)
        case .unreadable:
            unreadable += 1
        }
    }

    /// Counts one dead letter.
    public mutating func add(_ deadLetter: DeadLetter) {
        let key = Key(source: deadLetter.source, code: deadLetter.code)
        if var group = groupsByKey[key] {
            group.count += 1
            group.oldest = min(group.oldest, deadLetter.failedAt)
            group.newest = max(group.newest, deadLetter.failedAt)
            groupsByKey[key] = group
        } else {
            groupsByKey[key] = Group(source: deadLetter.source, code: deadLetter.code, count: 1, oldest: deadLetter.failedAt, newest: deadLetter.failedAt)
        }
        total += 1
    }

    /// The groups, by source (as ``FailureSource/allCases`` orders them) then code.
    public var groups: [Group] {
        let order = Dictionary(uniqueKeysWithValues: FailureSource.allCases.enumerated().map { ($1, $0) })
        return groupsByKey.values.sorted { lhs, rhs in
            let (left, right) = (order[lhs.source] ?? 0, order[rhs.source] ?? 0)
            return left != right ? left < right : lhs.code.utf8.lexicographicallyPrecedes(rhs.code.utf8)
        }
    }

    /// The earliest failure time of all, nil when there is none.
    public var oldest: Date? { groupsByKey.values.map(\.oldest).min() }
    /// The latest failure time of all, nil when there is none.
    public var newest: Date? { groupsByKey.values.map(\.newest).max() }

    /// A fixed-width table with a header line, one line per group and a total line (and a line of unreadable
    /// records when there are any).
    public func table() -> String {
        var rows: [[String]] = [["SOURCE", "CODE", "COUNT", "OLDEST", "NEWEST"]]
        for group in groups {
            rows.append([group.source.rawValue, group.code, String(group.count), RFC3339Timestamp.string(from: group.oldest), RFC3339Timestamp.string(from: group.newest)])
        }
        rows.append(["total", "", String(total), oldest.map(RFC3339Timestamp.string(from:)) ?? "-", newest.map(RFC3339Timestamp.string(from:)) ?? "-"])
        if unreadable > 0 { rows.append(["unreadable", "", String(unreadable), "", ""]) }
        var widths = [Int](repeating: 0, count: 5)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        return rows.map { row in
            var line = row.enumerated().map { index, cell in
                let padding = String(repeating: " ", count: widths[index] - cell.count)
                return index == 2 ? padding + cell : cell + padding  // counts right-aligned
            }.joined(separator: "  ")
            while line.last == " " { line.removeLast() }
            return line
        }.joined(separator: "\n")
    }

    /// One JSON object: `topic` (when given), `total`, `unreadable`, `oldest`, `newest` and `groups` (each with
    /// `source`, `code`, `count`, `oldest`, `newest`); times are RFC 3339 UTC text.
    public func json(topic: String? = nil) -> String {
        struct GroupJSON: Encodable {
            var source: String
            var code: String
            var count: Int
            var oldest: String
            var newest: String
        }
        struct StatsJSON: Encodable {
            var topic: String?
            var total: Int
            var unreadable: Int
            var oldest: String?
            var newest: String?
            var groups: [GroupJSON]
        }
        let value = StatsJSON(
            topic: topic, total: total, unreadable: unreadable,
            oldest: oldest.map(RFC3339Timestamp.string(from:)), newest: newest.map(RFC3339Timestamp.string(from:)),
            groups: groups.map {
                GroupJSON(
                    source: $0.source.rawValue, code: $0.code, count: $0.count,
                    oldest: RFC3339Timestamp.string(from: $0.oldest), newest: RFC3339Timestamp.string(from: $0.newest)
                )
            }
        )
        return DeadLetterListing.encode(value)
    }
}
