import ArgumentParser
import DeadLetterTools
import Foundation
import Kafka
import Logging
import RiskEvents
import RiskPipeline
import Settings

/// `risk-worker dlq`: inspects the dead-letter topic (`stats`, `show`), reading it once to its current end.
struct DeadLetterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Inspects the dead-letter topic: counts by source and code, or the dead letters themselves.",
        discussion: "Reads the dead-letter topic from the start to its end when the command started, never commits offsets. See docs/replay.md.",
        subcommands: [Stats.self, Show.self]
    )

    /// `risk-worker dlq stats`: counts by source and code with the oldest and newest failure time.
    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stats",
            abstract: "Prints counts of dead letters by source and code, with the oldest and newest failure time of each, and the total."
        )

        @OptionGroup var settings: KafkaSettingsOptions
        @OptionGroup var filters: DeadLetterFilterOptions

        @Flag(help: "Print one JSON object instead of a table.")
        var json = false

        @Argument(parsing: .allUnrecognized, help: .hidden)
        var unrecognized: [String] = []

        func run() async throws {
            try rejectUnrecognized(unrecognized)
            let settings = try self.settings.load()
            let filter = try filters.filter(now: Date())
            let scan = try await openScan(settings: settings, filter: filter)
            var stats = DeadLetterStats()
            do {
                try await scan.read { entries in
                    for entry in entries { stats.add(entry, filter: filter) }
                }
            } catch {
                throw commandFailure("reading \(settings.deadLetterTopic)", error)
            }
            print(json ? stats.json(topic: settings.deadLetterTopic) : stats.table())
        }
    }

    /// `risk-worker dlq show`: the matching dead letters, one per line.
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Prints matching dead letters one per line: partition:offset, failed at, source, code, externalId, masked phone, message."
        )

        @OptionGroup var settings: KafkaSettingsOptions
        @OptionGroup var filters: DeadLetterFilterOptions

        @Option(parsing: .unconditional, help: ArgumentHelp("Print at most this many dead letters.", valueName: "n"))
        var limit: String?

        @Flag(help: "Print JSON lines instead of text lines.")
        var json = false

        @Argument(parsing: .allUnrecognized, help: .hidden)
        var unrecognized: [String] = []

        func run() async throws {
            try rejectUnrecognized(unrecognized)
            let settings = try self.settings.load()
            let filter = try filters.filter(now: Date())
            let limit = try limit.map { text throws in
                guard let value = Int(text), value >= 0 else { throw usageError("--limit: '\(text)' is not a whole number of at least 0") }
                return value
            }
            let scan = try await openScan(settings: settings, filter: filter)
            var shown = 0
            guard limit != 0 else {
                await scan.close()
                return
            }
            do {
                try await scan.read { entries in
                    for entry in entries {
                        if let info = entry.info, !filter.matches(info.deadLetter) { continue }
                        if entry.info == nil, !filter.codes.isEmpty || !filter.sources.isEmpty || filter.since != nil || filter.until != nil {
                            continue  // an unreadable record has no source, code or time to match
                        }
                        print(json ? DeadLetterListing.json(entry) : DeadLetterListing.line(entry))
                        shown += 1
                        if let limit, shown >= limit { throw LimitReached() }
                    }
                }
            } catch is LimitReached {
                return
            } catch {
                throw commandFailure("reading \(settings.deadLetterTopic)", error)
            }
        }

        /// Ends the scan early once `--limit` dead letters are shown.
        private struct LimitReached: Error {}
    }
}

/// The dead-letter filters shared by `dlq stats`, `dlq show` and `replay`.
struct DeadLetterFilterOptions: ParsableArguments {
    @Option(name: .customLong("code"), parsing: .unconditionalSingleValue, help: ArgumentHelp("Only this risk.error.code (repeatable); a trailing x stands for a digit: 7, http-5xx, 11xxx, invalid-phone-number.", valueName: "code"))
    var codes: [String] = []

    @Option(name: .customLong("source"), parsing: .unconditionalSingleValue, help: ArgumentHelp("Only this source: validation, phone-risk or number-scoring (repeatable).", valueName: "source"))
    var sources: [String] = []

    @Option(parsing: .unconditional, help: ArgumentHelp("Only failures at or after this time: RFC 3339 (2025-08-06T12:00:00Z) or that long ago (30m, 2h, 7d).", valueName: "time"))
    var since: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Only failures at or before this time: RFC 3339 or that long ago.", valueName: "time"))
    var until: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Only this dead-letter partition.", valueName: "p"))
    var partition: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("With --partition: the first dead-letter offset to read.", valueName: "offset"))
    var fromOffset: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("With --partition: the last dead-letter offset to read (inclusive).", valueName: "offset"))
    var toOffset: String?

    /// The filter; a bad argument prints one line and ends with code 2.
    func filter(now: Date) throws -> DeadLetterFilter {
        func number<T: FixedWidthInteger>(_ text: String?, _ option: String, _ type: T.Type) throws -> T? {
            guard let text else { return nil }
            guard let value = T(text), value >= 0 else { throw usageError("\(option): '\(text)' is not a whole number of at least 0") }
            return value
        }
        let partition = try number(partition, "--partition", Int32.self)
        let fromOffset = try number(fromOffset, "--from-offset", Int64.self)
        let toOffset = try number(toOffset, "--to-offset", Int64.self)
        do {
            return try DeadLetterFilter(
                codes: codes, sources: sources, since: since, until: until,
                partition: partition, fromOffset: fromOffset, toOffset: toOffset, now: now
            )
        } catch {
            throw usageError(error.message)
        }
    }
}

/// Ends with code 2 naming the first argument no option took.
func rejectUnrecognized(_ arguments: [String]) throws {
    guard let first = arguments.first else { return }
    throw usageError(first.hasPrefix("-") ? "unknown option '\(first)' (see --help)" : "unexpected argument '\(first)' (see --help)")
}

/// Opens a scan of the dead-letter topic; an unknown topic or partition ends with code 2, a broker problem with 1.
func openScan(settings: KafkaSettings, filter: DeadLetterFilter) async throws -> DeadLetterScan {
    do {
        return try await DeadLetterScan.open(
            configuration: settings.configuration, topic: settings.deadLetterTopic, filter: filter, logger: commandLogger("risk-worker.dlq")
        )
    } catch {
        throw commandFailure("reading \(settings.deadLetterTopic)", error)
    }
}

/// Prints one line for a failure and returns the exit code to throw: 2 for argument problems, 1 otherwise.
func commandFailure(_ doing: String, _ error: any Error) -> ExitCode {
    if let failure = error as? DeadLetterScan.Failure, failure.isUsageError { return usageError("\(failure)") }
    FileHandle.standardError.write(Data("risk-worker: \(doing) failed: \(error)\n".utf8))
    return ExitCode(1)
}

/// A logger for the Kafka clients of `dlq` and `replay`: warnings and errors only, on standard error.
func commandLogger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = .warning
    return logger
}
