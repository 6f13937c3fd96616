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
        readFile: (String) throws -> String = { try String(contentsOfFile: $0, encoding: .utf8) }
    ) throws(SettingsError) -> KafkaSettings {
        var problems: [String] = []
        var fileValues: [String: String] = [:]
        if let file {
            do {
                fileValues = try WorkerSettings.parseFile(try readFile(file))
            } catch let error as SettingsError {
                problems.append(contentsOf: error.problems.map { "config file \(file): \($0)" })
            } catch {
                problems.append("config file \(file): cannot be read (\(error.localizedDescription))")
            }
        }
        func value(_ name: String) -> String? {
            for source in [flags, environment, fileValues] {
                if let value = source[name], !value.isEmpty { return value }
            }
            return nil
        }
        var settings = KafkaSettings()
        if let brokers = value("KAFKA_BROKERS") { settings.brokers = brokers }
        if let topic = value("KAFKA_INPUT_TOPIC") { settings.inputTopic = topic }
        if let topic = value("KAFKA_OUTPUT_TOPIC") { settings.outputTopic = topic }
        if let topic = value("KAFKA_DLQ_TOPIC") { settings.deadLetterTopic = topic }
        if let text = value("KAFKA_PROPERTIES") {
            do {
                settings.kafkaProperties = try KafkaConfiguration.parseProperties(text)
                try settings.configuration.validate()
            } catch {
                problems.append("KAFKA_PROPERTIES: \((error as? KafkaError)?.message ?? "\(error)")")
            }
        }
        if settings.inputTopic == settings.deadLetterTopic {
            problems.append("KAFKA_INPUT_TOPIC and KAFKA_DLQ_TOPIC must be two different topics")
        }
        guard problems.isEmpty else { throw SettingsError(problems: problems) }
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
