import ArgumentParser
import Kafka
import RiskPipeline

/// `risk-worker topics create`: creates the input, output and dead-letter topics the settings name.
struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "Manages the worker's topics.",
        subcommands: [Create.self]
    )

    /// `risk-worker topics create`.
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Creates the input, output and dead-letter topics (existing ones are left as they are)."
        )

        @OptionGroup(title: "Kafka settings (each also an environment variable)")
        var kafkaSettings: KafkaSettingsOptions

        @Option(help: "Partitions of the input and output topics.")
        var partitions: Int32 = 12

        @Option(help: "Partitions of the dead-letter topic.")
        var deadLetterPartitions: Int32 = 3

        @Option(help: "Replication factor (-1: the broker's default).")
        var replicationFactor: Int32 = -1

        func run() async throws {
            let settings = try kafkaSettings.load()
            guard partitions > 0 else { throw usageError("--partitions: must be at least 1") }
            guard deadLetterPartitions > 0 else { throw usageError("--dead-letter-partitions: must be at least 1") }
            let admin = try KafkaAdmin(configuration: settings.configuration)
            defer { admin.close() }
            let topics = [
                NewTopic(name: settings.inputTopic, partitions: partitions, replicationFactor: replicationFactor),
                NewTopic(name: settings.outputTopic, partitions: partitions, replicationFactor: replicationFactor),
                NewTopic(name: settings.deadLetterTopic, partitions: deadLetterPartitions, replicationFactor: replicationFactor),
            ]
            try await admin.createTopics(topics, ignoreExisting: true)
            print("topics ready: \(settings.inputTopic) (\(partitions)), \(settings.outputTopic) (\(partitions)), \(settings.deadLetterTopic) (\(deadLetterPartitions))")
        }
    }
}
