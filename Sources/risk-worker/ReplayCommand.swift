import ArgumentParser
import DeadLetterTools
import Foundation
import Kafka
import RiskPipeline
import Settings

/// `risk-worker replay`: republishes matching dead letters to the input topic (or `--to-topic`).
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Republishes the original key, value and headers of matching dead letters to the input topic, with risk.replay.count one higher.",
        discussion: """
            Reads the dead-letter topic from the start (or the given offsets) to its end when the command started, so it \
            always terminates. Validation failures are replayed only with --source validation. Every delivery is \
            confirmed before success is reported; on a broker error the command stops with exit code 1 and says how \
            many were sent. See docs/replay.md.
            """
    )

    @OptionGroup var settings: KafkaSettingsOptions
    @OptionGroup var filters: DeadLetterFilterOptions

    @Flag(help: "Print what would be sent and how many; send nothing.")
    var dryRun = false

    @Option(parsing: .unconditional, help: ArgumentHelp("At most this many records a second, such as 50/s (also N/m).", valueName: "N/s"))
    var rate: String?

    @Option(help: ArgumentHelp("Republish to this topic instead of the input topic (\(Setting.kafkaInputTopic.name)).", valueName: "topic"))
    var toTopic: String?

    @Argument(parsing: .allUnrecognized, help: .hidden)
    var unrecognized: [String] = []

    func run() async throws {
        try rejectUnrecognized(unrecognized)
        let settings = try self.settings.load()
        let filter = try filters.filter(now: Date())
        let rate = try rate.map { text throws in
            guard let rate = Replayer.Rate(parsing: text) else { throw usageError("--rate: '\(text)' is not a rate such as 50/s") }
            return rate
        }
        if let toTopic, toTopic.isEmpty { throw usageError("--to-topic: the topic name is empty") }
        let target = toTopic ?? settings.inputTopic
        let replayer = Replayer(
            configuration: settings.configuration,
            deadLetterTopic: settings.deadLetterTopic,
            filter: filter,
            options: Replayer.Options(targetTopic: target, dryRun: dryRun, rate: rate),
            logger: commandLogger("risk-worker.replay")
        )
        let progress = ReplayProgressDisplay(isTerminal: isatty(STDERR_FILENO) != 0)
        let dryRun = self.dryRun
        do {
            let summary = try await replayer.run(
                onPlanned: { planned in
                    if dryRun {
                        progress.clear()
                        print("would send \(DeadLetterListing.line(planned.entry)) -> \(target) (risk.replay.count \(planned.info.replayCount + 1))")
                    }
                },
                onProgress: { progress.update($0) }
            )
            progress.finish(summary)
            print("\(dryRun ? "dry run of replay" : "replayed") from \(settings.deadLetterTopic) to \(target): \(summary)")
        } catch {
            progress.finish(error.summary)
            if error.isUsageError { throw usageError(error.description) }
            let sent = error.summary.dryRun ? "nothing sent (dry run)" : "\(error.summary.sent) sent before stopping"
            FileHandle.standardError.write(Data("risk-worker: replay stopped: \(error.description); \(sent) (\(error.summary))\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// Shows a replay's progress on standard error: a bar redrawn in place on a terminal, otherwise a plain line every
/// few seconds.
final class ReplayProgressDisplay {
    private let isTerminal: Bool
    private let clock = ContinuousClock()
    private var lastDrawn: ContinuousClock.Instant?
    private var lineShown = false

    /// A display for a terminal (`isTerminal`) or for a log (where the first line comes after five seconds).
    init(isTerminal: Bool) {
        self.isTerminal = isTerminal
        if !isTerminal { lastDrawn = clock.now }
    }

    /// Shows the counts, at most ten times a second on a terminal and every five seconds otherwise.
    func update(_ summary: Replayer.Summary) {
        let now = clock.now
        if let lastDrawn, lastDrawn.duration(to: now) < (isTerminal ? .milliseconds(100) : .seconds(5)) { return }
        lastDrawn = now
        draw(summary)
    }

    /// Removes the bar so that another line can be printed (terminal only).
    func clear() {
        guard isTerminal, lineShown else { return }
        write("\r\u{1B}[2K")
        lineShown = false
    }

    /// Shows the final counts and ends the bar's line.
    func finish(_ summary: Replayer.Summary) {
        guard isTerminal, lastDrawn != nil else { return }
        draw(summary)
        write("\n")
        lineShown = false
    }

    private func draw(_ summary: Replayer.Summary) {
        let total = max(summary.offsetsToRead, Int64(summary.read))
        let fraction = total > 0 ? Double(summary.read) / Double(total) : 1
        let counts = "read \(summary.read)/\(total)  matched \(summary.matched)  \(summary.dryRun ? "would send \(summary.wouldSend)" : "sent \(summary.sent)")  skipped \(summary.skipped)"
        if isTerminal {
            let width = 30
            let filled = min(width, Int((fraction * Double(width)).rounded(.down)))
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            write("\r\u{1B}[2K[\(bar)] \(String(format: "%3d", Int(fraction * 100)))%  \(counts)")
            lineShown = true
        } else {
            write("replay progress: \(Int(fraction * 100))%  \(counts)\n")
        }
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
