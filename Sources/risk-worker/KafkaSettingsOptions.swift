import ArgumentParser
import Foundation
import RiskPipeline
import Settings

/// The Kafka settings as flags (as for `run`) and a settings file, for the commands that only talk to Kafka.
struct KafkaSettingsOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A KEY=VALUE settings file, the worker's (flags and environment win over it).", valueName: "file"))
    var config: String?

    @Option(name: .customLong("kafka-brokers"), help: ArgumentHelp("Bootstrap servers (KAFKA_BROKERS, default localhost:9092).", valueName: "host:port,…"))
    var kafkaBrokers: String?

    @Option(name: .customLong("kafka-input-topic"), help: ArgumentHelp("Input topic, where replay sends (KAFKA_INPUT_TOPIC, default account-lifecycle-events).", valueName: "topic"))
    var kafkaInputTopic: String?

    @Option(name: .customLong("kafka-output-topic"), help: ArgumentHelp("Output topic (KAFKA_OUTPUT_TOPIC, default account-lifecycle-scored).", valueName: "topic"))
    var kafkaOutputTopic: String?

    @Option(name: .customLong("kafka-dlq-topic"), help: ArgumentHelp("Dead-letter topic (KAFKA_DLQ_TOPIC, default account-lifecycle-dlq).", valueName: "topic"))
    var kafkaDlqTopic: String?

    @Option(name: .customLong("kafka-properties"), help: ArgumentHelp("Extra librdkafka properties (KAFKA_PROPERTIES).", valueName: "k=v,…"))
    var kafkaProperties: String?

    /// The Kafka settings; bad settings print one line each and end with code 2.
    func load() throws -> KafkaSettings {
        var flags: [String: String] = [:]
        flags["KAFKA_BROKERS"] = kafkaBrokers
        flags["KAFKA_INPUT_TOPIC"] = kafkaInputTopic
        flags["KAFKA_OUTPUT_TOPIC"] = kafkaOutputTopic
        flags["KAFKA_DLQ_TOPIC"] = kafkaDlqTopic
        flags["KAFKA_PROPERTIES"] = kafkaProperties
        do {
            return try KafkaSettings.load(flags: flags, environment: ProcessInfo.processInfo.environment, file: config)
        } catch {
            for problem in error.problems.dropLast() { _ = usageError(problem) }
            throw usageError(error.problems.last ?? "invalid settings")
        }
    }
}
