import ArgumentParser
import Foundation
import RiskPipeline
import Settings

/// The worker's settings as flags, one per environment variable (`--kafka-brokers` is `KAFKA_BROKERS`), and the
/// optional settings file; flags win over the environment, which wins over the file.
struct SettingFlags: ParsableArguments {
    @Option(help: "A KEY=VALUE settings file (flags and environment win over it).")
    var config: String?

    @Option(name: .customLong("kafka-brokers"), help: "Bootstrap servers (default localhost:9092).")
    var kafkaBrokers: String?

    @Option(name: .customLong("kafka-group-id"), help: "Consumer group (default risk-worker).")
    var kafkaGroupId: String?

    @Option(name: .customLong("kafka-input-topic"), help: "Input topic (default account-lifecycle-events).")
    var kafkaInputTopic: String?

    @Option(name: .customLong("kafka-output-topic"), help: "Output topic (default account-lifecycle-scored).")
    var kafkaOutputTopic: String?

    @Option(name: .customLong("kafka-dlq-topic"), help: "Dead-letter topic (default account-lifecycle-dlq).")
    var kafkaDlqTopic: String?

    @Option(name: .customLong("kafka-properties"), help: "Extra librdkafka properties, k=v,k=v.")
    var kafkaProperties: String?

    @Option(name: .customLong("kafka-group-instance-id"), help: "Static group membership id (a restart does not rebalance).")
    var kafkaGroupInstanceId: String?

    @Option(name: .customLong("kafka-transactional-id"), help: "This instance's transactional id (default: group id and host name).")
    var kafkaTransactionalId: String?

    @Option(name: .customLong("phone-risk-url"), help: "Phone risk API base URL.")
    var phoneRiskUrl: String?

    @Option(name: .customLong("phone-risk-token"), help: "Phone risk bearer token (prefer the environment or PHONE_RISK_TOKEN_FILE).")
    var phoneRiskToken: String?

    @Option(name: .customLong("phone-risk-api-key"), help: "Phone risk API key, with --phone-risk-customer-id, for the token endpoint.")
    var phoneRiskApiKey: String?

    @Option(name: .customLong("phone-risk-customer-id"), help: "Phone risk customer id.")
    var phoneRiskCustomerId: String?

    @Option(name: .customLong("number-scoring-url"), help: "Number scoring API base URL.")
    var numberScoringUrl: String?

    @Option(name: .customLong("number-scoring-api-key"), help: "Number scoring API key (prefer the environment or NUMBER_SCORING_API_KEY_FILE).")
    var numberScoringApiKey: String?

    @Option(name: .customLong("idempotency-store"), help: "sqlite:///path or postgres://user:pw@host:port/db (default: an SQLite file here).")
    var idempotencyStore: String?

    @Option(name: .customLong("delivery"), help: "exactly-once (default) or at-least-once.")
    var delivery: String?

    @Option(name: .customLong("metrics-port"), help: "Port of /metrics and /health/* (default 9464).")
    var metricsPort: String?

    @Option(name: .customLong("max-in-flight"), help: "Events processed at once (default 512).")
    var maxInFlight: String?

    @Option(name: .customLong("error-policy"), help: "Error policy overrides, such as number-scoring:7=dead-letter.")
    var errorPolicy: String?

    @Option(name: .customLong("retry-base-ms"), help: "First retry delay in ms (default 200).")
    var retryBaseMs: String?

    @Option(name: .customLong("retry-cap-ms"), help: "Longest retry delay in ms (default 10000).")
    var retryCapMs: String?

    @Option(name: .customLong("retry-attempts"), help: "Attempts per provider call, the first included (default 5).")
    var retryAttempts: String?

    @Option(name: .customLong("drain-timeout-ms"), help: "How long shutdown and revocation wait for work in flight, ms (default 30000).")
    var drainTimeoutMs: String?

    /// The flags given, by setting name.
    var values: [String: String] {
        let all: [(String, String?)] = [
            ("KAFKA_BROKERS", kafkaBrokers),
            ("KAFKA_GROUP_ID", kafkaGroupId),
            ("KAFKA_INPUT_TOPIC", kafkaInputTopic),
            ("KAFKA_OUTPUT_TOPIC", kafkaOutputTopic),
            ("KAFKA_DLQ_TOPIC", kafkaDlqTopic),
            ("KAFKA_PROPERTIES", kafkaProperties),
            ("KAFKA_GROUP_INSTANCE_ID", kafkaGroupInstanceId),
            ("KAFKA_TRANSACTIONAL_ID", kafkaTransactionalId),
            ("PHONE_RISK_URL", phoneRiskUrl),
            ("PHONE_RISK_TOKEN", phoneRiskToken),
            ("PHONE_RISK_API_KEY", phoneRiskApiKey),
            ("PHONE_RISK_CUSTOMER_ID", phoneRiskCustomerId),
            ("NUMBER_SCORING_URL", numberScoringUrl),
            ("NUMBER_SCORING_API_KEY", numberScoringApiKey),
            ("IDEMPOTENCY_STORE", idempotencyStore),
            ("DELIVERY", delivery),
            ("METRICS_PORT", metricsPort),
            ("MAX_IN_FLIGHT", maxInFlight),
            ("ERROR_POLICY", errorPolicy),
            ("RETRY_BASE_MS", retryBaseMs),
            ("RETRY_CAP_MS", retryCapMs),
            ("RETRY_ATTEMPTS", retryAttempts),
            ("DRAIN_TIMEOUT_MS", drainTimeoutMs),
        ]
        return all.reduce(into: [:]) { result, pair in
            if let value = pair.1 { result[pair.0] = value }
        }
    }

    /// The settings from these flags, the environment and the file; bad ones end the process with code 2.
    func load() throws -> WorkerSettings {
        do {
            return try WorkerSettings.load(flags: values, environment: ProcessInfo.processInfo.environment, file: config)
        } catch {
            for problem in error.problems.dropLast() { _ = usageError(problem) }
            throw usageError(error.problems.last ?? "invalid settings")
        }
    }
}
