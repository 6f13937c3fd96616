import Foundation
import Kafka

/// The Kafka settings of the commands that only talk to Kafka (`publish`, `topics`, `dlq`, `replay`): brokers,
/// topics, extra properties, read like ``WorkerSettings`` but without the provider settings only `run` and `check` need.
public struct KafkaSettings: Sendable, Hashable, CustomStringConvertible {
    /// `KAFKA_BROKERS`: the bootstrap servers.
    public var brokers: String
    /// `KAFKA_INPUT_TOPIC`: where replayed records go unless another topic is asked for.
    public var inputTopic: String
    /// `KAFKA_OUTPUT_TOPIC`: where scored events go.
    public var outputTopic: String
    /// `KAFKA_DLQ_TOPIC`: the dead-letter topic that is read.
    public var deadLetterTopic: String
    /// `KAFKA_PROPERTIES`: extra librdkafka properties (security settings, for example).
    public var kafkaProperties: [String: String] = [:]

    /// Loads the Kafka settings (``Setting/kafka``) from flags, environment and an optional `KEY=VALUE` file (the
    /// worker's file, which may hold any other setting as well); throws every problem at once, one line each.
    public static func load(
        flags: [String: String] = [:],
        environment: [String: String],
        file: String? = nil,
        readFile: @escaping @Sendable (String) throws -> String = { try String(contentsOfFile: $0, encoding: .utf8) }
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
