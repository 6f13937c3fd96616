import ArgumentParser
import Kafka

/// `risk-worker`: scores account lifecycle events from Kafka by phone-number risk.
@main
struct RiskWorkerCommand: AsyncParsableCommand {
    /// The worker's own version.
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "risk-worker",
        abstract: "Scores account lifecycle events from Kafka by phone-number risk.",
        version: "risk-worker \(version) (librdkafka \(Librdkafka.version))",
        subcommands: [RunCommand.self, CheckCommand.self, PublishCommand.self, TopicsCommand.self, DeadLetterCommand.self, ReplayCommand.self]
    )
}
