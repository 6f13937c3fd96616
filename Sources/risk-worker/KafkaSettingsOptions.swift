import ArgumentParser
import Foundation
import Settings

/// The Kafka settings (``Setting/kafka``) as flags, as for `run`, and a settings file, for the commands that only
/// talk to Kafka.
struct KafkaSettingsOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A KEY=VALUE settings file, the worker's (flags and environment win over it).", valueName: "file"))
    var config: String?

    @Option(setting: .kafkaBrokers) var kafkaBrokers: SettingFlag?
    @Option(setting: .kafkaInputTopic) var kafkaInputTopic: SettingFlag?
    @Option(setting: .kafkaOutputTopic) var kafkaOutputTopic: SettingFlag?
    @Option(setting: .kafkaDlqTopic) var kafkaDlqTopic: SettingFlag?
    @Option(setting: .kafkaProperties) var kafkaProperties: SettingFlag?

    /// The Kafka settings; bad settings print one line each and end with code 2.
    func load() throws -> KafkaSettings {
        try exitOnProblems { () throws(SettingsError) in
            try KafkaSettings.load(flags: settingValues, environment: ProcessInfo.processInfo.environment, file: config)
        }
    }
}
