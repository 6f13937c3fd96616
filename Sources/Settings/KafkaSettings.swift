import Foundation
import Kafka

/// The Kafka settings of the commands that only talk to Kafka (`publish`, `topics`, `dlq`, `replay`): brokers,
/// topics, extra properties, read like ``WorkerSettings`` but without the provider settings only `run` and `check` need.
public struct KafkaSettings: Sendable, Hashable, CustomStringConvertible {
    /// `KAFKA_BROKERS`: the bootstrap servers.
    public var brokers = "localhost:9092"
    /// `KAFKA_INPUT_TOPIC`: where replayed records go unless another topic is asked for.
    public var inputTopic = "account-lifecycle-events"
    /// `KAFKA_OUTPUT_TOPIC`: where scored events go.
    public var outputTopic = "account-lifecycle-scored"
    /// `KAFKA_DLQ_TOPIC`: the dead-letter topic that is read.
    public var deadLetterTopic = "account-lifecycle-dlq"
    /// `KAFKA_PROPERTIES`: extra librdkafka properties (security settings, for example).
    public var kafkaProperties: [String: String] = [:]

    /// The setting names read here; a settings file may hold any other ``WorkerSettings`` name as well.
    public static let names = ["KAFKA_BROKERS", "KAFKA_INPUT_TOPIC", "KAFKA_OUTPUT_TOPIC", "KAFKA_DLQ_TOPIC", "KAFKA_PROPERTIES"]

    /// Settings with every default.
    public init() {}

    /// Loads the Kafka settings from flags, environment and an optional `KEY=VALUE` file (the worker's file format);
    /// throws every problem at once, one line each, naming the setting.
    public static func load(
        flags: [String: String] = [:],
        environment: [String: String],
        file: String? = nil,
        readFile: @escaping (String) throws -> String = { try String(contentsOfFile: $0, encoding: .utf8) }
    ) throws(SettingsError) -> KafkaSettings {
        var sources = SettingSources(flags: flags, environment: environment, file: file, readFile: readFile)
        let settings = sources.kafka()
        guard sources.problems.isEmpty else { throw SettingsError(problems: sources.problems) }
        return settings
    }

    /// The client configuration: the brokers with the extra properties.
    public var configuration: KafkaConfiguration {
        var configuration = KafkaConfiguration(bootstrapServers: brokers, properties: kafkaProperties)
        configuration.bootstrapServers = brokers
        return configuration
    }

    /// The settings without property values (they may hold secrets).
    public var description: String {
        let properties = kafkaProperties.keys.sorted().joined(separator: ",")
        return "brokers=\(brokers) input=\(inputTopic) output=\(outputTopic) dlq=\(deadLetterTopic) properties=[\(properties)]"
    }
}
