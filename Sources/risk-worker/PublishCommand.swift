import ArgumentParser
import Foundation
import Kafka
import RiskEvents
import RiskPipeline
import SampleEvents
import Settings

/// `risk-worker publish`: puts lifecycle events on the input topic, from a JSON-lines file, stdin or a generator.
struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publishes lifecycle events (JSON lines from a file or stdin, or --generate N synthetic ones) to the input topic.",
        discussion: """
            Each line is validated first, as the worker would; bad lines are reported with their line number and
            validation code, and by default nothing is published when any line is bad (--skip-invalid publishes the
            good ones). Blank lines are ignored. The record key is the event's externalId.
            --generate N makes N synthetic events instead, deterministic for a --seed; a --failures share of them
            fail on purpose (sandbox fault numbers and invalid events, which the worker dead-letters or retries).
            Every record's delivery is confirmed before the command exits 0.
            Settings: \(Setting.kafkaBrokers.name), \(Setting.kafkaInputTopic.name), \(Setting.kafkaProperties.name) (as for run).
            """
    )

    @OptionGroup(title: "Kafka settings (each also an environment variable)")
    var kafkaSettings: KafkaSettingsOptions

    @Argument(help: "A JSON-lines file; '-' or nothing reads stdin (not with --generate).")
    var file: String?

    @Option(help: ArgumentHelp("The topic to publish to (default: the \(Setting.kafkaInputTopic.name) setting)."))
    var topic: String?

    @Option(help: "Publish this many generated events instead of reading lines.")
    var generate: Int?

    @Option(help: "The generator's seed (default: random, printed in the summary); the same seed gives the same events.")
    var seed: UInt64?

    @Option(help: "The share (0...1) of generated events that fail on purpose.")
    var failures = 0.05

    @Flag(name: .customLong("skip-invalid"), help: "Publish the valid lines even when some are invalid (those are left out).")
    var skipInvalid = false

    /// Records sent and confirmed together before the next ones are handed to the producer.
    static let chunkSize = 2000
    /// Bad lines listed one by one before the rest are only counted.
    static let listedProblems = 100

    func run() async throws {
        let settings = try kafkaSettings.load()
        let topic = self.topic ?? settings.inputTopic
        guard !topic.isEmpty else { throw usageError("--topic: the topic name is empty") }

        if let generate {
            guard file == nil else { throw usageError("give either a file or --generate, not both") }
            guard generate >= 0 else { throw usageError("--generate: '\(generate)' is not a count of events") }
            guard (0...1).contains(failures) else { throw usageError("--failures: '\(failures)' is not between 0 and 1") }
            guard !skipInvalid else { throw usageError("--skip-invalid goes with lines read, not with --generate") }
            let seed = self.seed ?? UInt64.random(in: 0...UInt64(UInt32.max))
            let generator = EventGenerator(seed: seed, failureFraction: failures)
            var tally = (scored: 0, retried: 0, invalid: 0)
            let published = try await publish(count: generate, settings: settings) { range in
                let events = generator.events(range)
                for event in events {
                    if event.outcome.isScored { tally.scored += 1 }
                    if case .scoredAfterRetries = event.outcome { tally.retried += 1 }
                    if event.outcome.isInvalid { tally.invalid += 1 }
                }
                return events.map { ProducerRecord(topic: topic, key: $0.key, value: $0.value) }
            }
            print(
                "published \(published) to \(topic), invalid \(tally.invalid) (on purpose); generated with seed \(seed): "
                    + "\(tally.scored) to be scored (\(tally.retried) after retries), "
                    + "\(generate - tally.scored - tally.invalid) provider dead letters")
            return
        }

        guard seed == nil else { throw usageError("--seed goes with --generate") }
        let bytes = try readInput()
        var records: [ProducerRecord] = []
        var problems: [String] = []
        var invalidCount = 0
        for (number, line) in Self.lines(of: bytes) {
            do throws(RiskEvents.ValidationError) {
                let event = try LifecycleEvent.decode(value: line)
                records.append(ProducerRecord(topic: topic, key: Array(event.externalId.utf8), value: line))
            } catch {
                invalidCount += 1
                if problems.count < Self.listedProblems { problems.append("line \(number): \(error.code): \(error.message)") }
            }
        }
        for problem in problems { Self.printError(problem) }
        if invalidCount > problems.count { Self.printError("… and \(invalidCount - problems.count) more invalid lines") }
        if invalidCount > 0 && !skipInvalid {
            Self.printError(
                "\(invalidCount) of \(invalidCount + records.count) lines are invalid: nothing published "
                    + "(--skip-invalid publishes the valid ones)")
            throw ExitCode(1)
        }
        let published = try await publish(count: records.count, settings: settings) { Array(records[$0]) }
        print("published \(published) to \(topic), invalid \(invalidCount)")
    }

    /// Sends `count` records in order, made chunk after chunk by `records`, and returns how many were confirmed;
    /// exits 1 when one is not delivered.
    private func publish(
        count: Int, settings: KafkaSettings, records: (Range<Int>) -> [ProducerRecord]
    ) async throws -> Int {
        guard count > 0 else { return 0 }
        var configuration = KafkaConfiguration(bootstrapServers: settings.brokers)
        // Without it a missing topic would hold every record for librdkafka's default of five minutes.
        configuration["message.timeout.ms"] = "30000"
        configuration.merge(settings.kafkaProperties)
        configuration.bootstrapServers = settings.brokers
        let producer: KafkaProducer
        do {
            producer = try KafkaProducer(configuration: configuration)
        } catch {
            throw usageError("\(Setting.kafkaProperties.name): \((error as? KafkaError)?.message ?? "\(error)")")
        }
        let showProgress = count >= 10_000
        var delivered = 0
        var nextReport = count / 10
        var firstFailure: KafkaError?
        var failed = 0
        var start = 0
        while start < count {
            let chunk = records(start..<min(start + Self.chunkSize, count))
            start += chunk.count
            let results: [Result<DeliveryReport, KafkaError>]
            do {
                results = try await producer.send(chunk)
            } catch {
                await producer.close()
                Self.printError("publish failed after \(delivered) of \(count) records: \(error)")
                throw ExitCode(1)
            }
            for result in results {
                switch result {
                case .success: delivered += 1
                case .failure(let error):
                    failed += 1
                    if firstFailure == nil { firstFailure = error }
                }
            }
            if failed > 0 { break }
            if showProgress && delivered >= nextReport && delivered < count {
                Self.printError("published \(delivered) of \(count)")
                nextReport += count / 10
            }
        }
        await producer.close()
        if let firstFailure {
            Self.printError(
                "\(failed) records were not delivered (\(firstFailure)); \(delivered) of \(count) were, the rest not sent")
            throw ExitCode(1)
        }
        return delivered
    }

    /// The whole input: the file's bytes, or stdin's for no file or `-`.
    private func readInput() throws -> [UInt8] {
        guard let file, file != "-" else {
            return [UInt8](FileHandle.standardInput.readDataToEndOfFile())
        }
        do {
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        } catch {
            throw usageError("cannot read \(file): \(error.localizedDescription)")
        }
    }

    /// The non-blank lines of `bytes` with their 1-based line numbers, without the line ends (`\n` or `\r\n`).
    static func lines(of bytes: [UInt8]) -> [(number: Int, line: [UInt8])] {
        var result: [(number: Int, line: [UInt8])] = []
        var number = 0
        for raw in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            var line = raw
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { continue }
            result.append((number, Array(line)))
        }
        return result
    }

    /// Writes one line to stderr, prefixed like the other messages of the command.
    private static func printError(_ line: String) {
        FileHandle.standardError.write(Data("risk-worker publish: \(line)\n".utf8))
    }
}
