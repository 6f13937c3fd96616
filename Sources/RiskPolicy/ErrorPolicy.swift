import RiskEvents

/// Decides what the worker does with a failure, from its source and code: retry it, dead-letter the record, or
/// pause consumption (an account-level problem); the defaults can be overridden from text (`ERROR_POLICY`).
///
/// Default table (codes are the `risk.error.code` values; `x` stands for any digit):
///
/// | source | code | action |
/// |---|---|---|
/// | `validation` | any | `dead-letter` (always; cannot be overridden) |
/// | `number-scoring` | `4`, `7` | `retry` |
/// | `number-scoring` | `1`, `5`, `6` | `dead-letter` |
/// | `number-scoring` | `2`, `3`, `8` | `pause` |
/// | `phone-risk` | `10019`, `599` | `retry` |
/// | `phone-risk` | `500` | `dead-letter` |
/// | `phone-risk` | `501`, `10010`, `10012`, `10013`, `10015`, `10020` | `pause` |
/// | `phone-risk` | `11xxx`, `12xxx` | `dead-letter` |
/// | both providers | `http-429`, `http-5xx` | `retry` |
/// | both providers | `http-401`, `http-403` | `pause` |
/// | both providers | `http-4xx` (other 4xx) | `dead-letter` |
/// | both providers | `transport`, `timeout` | `retry` |
/// | both providers | `decoding` | `dead-letter` |
/// | both providers | any other code | `dead-letter` |
///
/// Overrides: comma-separated items `source:code=action`, e.g.
/// `number-scoring:7=dead-letter,phone-risk:http-503=pause,*:http-5xx=retry`. `source` is `phone-risk`,
/// `number-scoring`, `validation` (only `=dead-letter` is accepted there) or `*` (both providers); `code` is an exact
/// code, a pattern ending in `x`s after digits or `-` (`11xxx`, `http-5xx`), or `*` (any code of the source);
/// `action` is `retry`, `dead-letter` or `pause`. Any override beats every default; among overrides (and among
/// defaults) the most specific matching rule wins: an exact code before a pattern with more fixed characters, before
/// `*`; at equal code specificity a named source before `*`; at full equality the later item.
public struct ErrorPolicy: Sendable, Equatable, CustomStringConvertible {
    /// What to do with a failure.
    public enum Action: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// Try the failed step again after a backoff (then dead-letter when the attempts are used up).
        case retry
        /// Produce the record to the dead-letter topic at once.
        case deadLetter = "dead-letter"
        /// Stop consuming and probe until the provider recovers; the record is neither scored nor dead-lettered yet.
        case pause

        /// The spelling used in overrides (`retry`, `dead-letter`, `pause`).
        public var description: String { rawValue }
    }

    /// One line of a policy: a source (nil for `*`, both providers), a code or code pattern, and the action.
    public struct Rule: Sendable, Hashable, CustomStringConvertible {
        /// The source it applies to; nil applies to both providers (`*`).
        public var source: FailureSource?
        /// An exact code, a pattern such as `11xxx` or `http-5xx`, or `*`.
        public var code: String
        /// The action when it matches.
        public var action: Action

        /// A rule for `source` (nil: both providers) and `code`.
        public init(source: FailureSource?, code: String, action: Action) {
            self.source = source
            self.code = code
            self.action = action
        }

        /// The override spelling, `source:code=action`.
        public var description: String { "\(source?.rawValue ?? "*"):\(code)=\(action.rawValue)" }
    }

    /// Bad override text: the offending item and why.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The item as written (trimmed).
        public var item: String
        /// What is wrong with it.
        public var reason: String

        /// `invalid error policy item "<item>": <reason>`.
        public var description: String { "invalid error policy item \"\(item)\": \(reason)" }
    }

    /// The action for codes no rule matches (any source): dead-letter.
    public static let fallbackAction = Action.deadLetter

    /// The built-in rules, as in the table above.
    public static let defaultRules: [Rule] = {
        var rules: [Rule] = []
        func add(_ source: FailureSource?, _ codes: [String], _ action: Action) {
            rules += codes.map { Rule(source: source, code: $0, action: action) }
        }
        add(.numberScoring, ["4", "7"], .retry)
        add(.numberScoring, ["1", "5", "6"], .deadLetter)
        add(.numberScoring, ["2", "3", "8"], .pause)
        add(.phoneRisk, ["10019", "599"], .retry)
        add(.phoneRisk, ["500"], .deadLetter)
        add(.phoneRisk, ["501", "10010", "10012", "10013", "10015", "10020"], .pause)
        add(.phoneRisk, ["11xxx", "12xxx"], .deadLetter)
        add(nil, ["http-429", "http-5xx", "transport", "timeout"], .retry)
        add(nil, ["http-401", "http-403"], .pause)
        add(nil, ["http-4xx", "decoding", "*"], .deadLetter)
        return rules
    }()

    /// The policy with the default rules and no overrides.
    public static let standard = ErrorPolicy()

    /// The overrides, in the order given.
    public let overrides: [Rule]
    private let compiledOverrides: [CompiledRule]
    private let compiledDefaults: [CompiledRule]

    /// The default rules with `overrides` on top (validation rules other than dead-letter are refused).
    public init(overrides: [Rule]) throws(ParseError) {
        for rule in overrides where rule.source == .validation && rule.action != .deadLetter {
            throw ParseError(item: rule.description, reason: "validation errors are always dead-lettered")
        }
        self.overrides = overrides
        compiledOverrides = Self.compile(overrides)
        compiledDefaults = Self.compile(Self.defaultRules)
    }

    private init() {
        overrides = []
        compiledOverrides = []
        compiledDefaults = Self.compile(Self.defaultRules)
    }

    /// The default rules with the overrides parsed from `text` (e.g. the `ERROR_POLICY` setting; empty: none).
    public init(parsing text: String) throws(ParseError) {
        try self.init(overrides: Self.parseOverrides(text))
    }

    /// Parses override text: comma-separated `source:code=action` items, blanks around items ignored.
    public static func parseOverrides(_ text: String) throws(ParseError) -> [Rule] {
        var rules: [Rule] = []
        for rawItem in text.split(separator: ",", omittingEmptySubsequences: false) {
            let item = rawItem.trimmingBlanks()
            if item.isEmpty {
                if text.trimmingBlanks().isEmpty { continue }
                throw ParseError(item: String(rawItem), reason: "empty item (two commas in a row, or a comma at an end)")
            }
            guard let equals = item.lastIndex(of: "=") else {
                throw ParseError(item: item, reason: "expected source:code=action")
            }
            let target = item[..<equals].trimmingBlanks()
            let actionText = item[item.index(after: equals)...].trimmingBlanks()
            guard let action = Action(rawValue: actionText) else {
                let allowed = Action.allCases.map(\.rawValue).joined(separator: ", ")
                throw ParseError(item: item, reason: "unknown action \"\(actionText)\" (expected one of \(allowed))")
            }
            guard let colon = target.firstIndex(of: ":") else {
                throw ParseError(item: item, reason: "expected source:code=action (no ':' between source and code)")
            }
            let sourceText = target[..<colon].trimmingBlanks()
            let code = target[target.index(after: colon)...].trimmingBlanks()
            let source: FailureSource?
            if sourceText == "*" {
                source = nil
            } else if let known = FailureSource(rawValue: sourceText) {
                source = known
            } else {
                let allowed = (FailureSource.allCases.map(\.rawValue) + ["*"]).joined(separator: ", ")
                throw ParseError(item: item, reason: "unknown source \"\(sourceText)\" (expected one of \(allowed))")
            }
            guard !code.isEmpty else { throw ParseError(item: item, reason: "the code is empty") }
            guard !code.contains(where: { $0.isWhitespace || $0 == "=" }) else {
                throw ParseError(item: item, reason: "the code \"\(code)\" contains blanks or '='")
            }
            if source == .validation && action != .deadLetter {
                throw ParseError(item: item, reason: "validation errors are always dead-lettered")
            }
            rules.append(Rule(source: source, code: code, action: action))
        }
        return rules
    }

    /// The action for a failure with `code` from `source`.
    public func action(source: FailureSource, code: String) -> Action {
        if source == .validation { return .deadLetter }
        let bytes = Array(code.utf8)
        if let rule = compiledOverrides.first(where: { $0.matches(source: source, code: bytes) }) { return rule.action }
        if let rule = compiledDefaults.first(where: { $0.matches(source: source, code: bytes) }) { return rule.action }
        return Self.fallbackAction
    }

    /// The overrides in their text form (empty when there are none).
    public var description: String { overrides.map(\.description).joined(separator: ",") }

    /// Equal when the overrides are equal (the defaults are the same for every policy).
    public static func == (lhs: ErrorPolicy, rhs: ErrorPolicy) -> Bool { lhs.overrides == rhs.overrides }

    // MARK: - Matching

    private struct CompiledRule {
        let source: FailureSource?
        let pattern: ErrorCodePattern
        let action: Action

        func matches(source: FailureSource, code: [UInt8]) -> Bool {
            (self.source == nil || self.source == source) && pattern.matches(code)
        }
    }

    /// Compiles and orders rules so that the first match is the most specific (later rules first on ties).
    private static func compile(_ rules: [Rule]) -> [CompiledRule] {
        let indexed = rules.enumerated().map { index, rule in
            (index, CompiledRule(source: rule.source, pattern: ErrorCodePattern(ruleCode: rule.code), action: rule.action))
        }
        return indexed.sorted { lhs, rhs in
            let (left, right) = (lhs.1, rhs.1)
            if left.pattern.specificity != right.pattern.specificity { return left.pattern.specificity > right.pattern.specificity }
            if (left.source != nil) != (right.source != nil) { return left.source != nil }
            return lhs.0 > rhs.0
        }.map(\.1)
    }
}

extension StringProtocol {
    /// The text without leading and trailing whitespace.
    fileprivate func trimmingBlanks() -> String {
        var text = Substring(String(self))
        while text.first?.isWhitespace == true { text.removeFirst() }
        while text.last?.isWhitespace == true { text.removeLast() }
        return String(text)
    }
}
