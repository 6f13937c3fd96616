import Foundation
import Kafka

/// Where settings are read from, in precedence order: flags, environment, a `KEY=VALUE` file; collects every
/// problem met, one line each naming the setting, so a loader can report them all at once.
struct SettingSources {
    private let layers: [[String: String]]
    private let readFile: (String) throws -> String
    /// The problems met so far.
    private(set) var problems: [String] = []

    /// Sources from `flags`, `environment` and the file at `file` (its problems are recorded, not thrown).
    init(flags: [String: String], environment: [String: String], file: String?, readFile: @escaping (String) throws -> String) {
        self.readFile = readFile
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
        layers = [flags, environment, fileValues]
    }

    /// Records a problem.
    mutating func problem(_ line: String) {
        problems.append(line)
    }

    /// The first non-empty value of `name`; for a secret, also the trimmed contents of the file `<name>_FILE` names.
    mutating func value(_ name: String) -> String? {
        for layer in layers {
            if let value = layer[name], !value.isEmpty { return value }
            if WorkerSettings.secretNames.contains(name), let path = layer[name + "_FILE"], !path.isEmpty {
                do {
                    return try readFile(path).trimmingCharacters(in: .whitespacesAndNewlines)
                } catch {
                    problems.append("\(name)_FILE: cannot read \(path)")
                    return nil
                }
            }
        }
        return nil
    }

    /// The Kafka settings every command shares: brokers, the three topics, extra properties checked by librdkafka.
    mutating func kafka() -> KafkaSettings {
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
        let topics = [settings.inputTopic, settings.outputTopic, settings.deadLetterTopic]
        if Set(topics).count != topics.count {
            problems.append("KAFKA_INPUT_TOPIC, KAFKA_OUTPUT_TOPIC and KAFKA_DLQ_TOPIC must be three different topics")
        }
        return settings
    }
}
