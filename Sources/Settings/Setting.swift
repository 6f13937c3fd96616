import Configuration
import IdempotencyStore

/// Every setting the commands read, each declared once: its name (the environment variable and the settings file's
/// name), from which its flag and configuration key follow, its help, its default and whether it is secret.
public enum Setting: String, CaseIterable, Sendable {
    case kafkaBrokers = "KAFKA_BROKERS"
    case kafkaGroupId = "KAFKA_GROUP_ID"
    case kafkaInputTopic = "KAFKA_INPUT_TOPIC"
    case kafkaOutputTopic = "KAFKA_OUTPUT_TOPIC"
    case kafkaDlqTopic = "KAFKA_DLQ_TOPIC"
    case kafkaProperties = "KAFKA_PROPERTIES"
    case kafkaGroupInstanceId = "KAFKA_GROUP_INSTANCE_ID"
    case kafkaTransactionalId = "KAFKA_TRANSACTIONAL_ID"
    case phoneRiskUrl = "PHONE_RISK_URL"
    case phoneRiskToken = "PHONE_RISK_TOKEN"
    case phoneRiskApiKey = "PHONE_RISK_API_KEY"
    case phoneRiskCustomerId = "PHONE_RISK_CUSTOMER_ID"
    case numberScoringUrl = "NUMBER_SCORING_URL"
    case numberScoringApiKey = "NUMBER_SCORING_API_KEY"
    case idempotencyStore = "IDEMPOTENCY_STORE"
    case delivery = "DELIVERY"
    case metricsPort = "METRICS_PORT"
    case maxInFlight = "MAX_IN_FLIGHT"
    case errorPolicy = "ERROR_POLICY"
    case retryBaseMs = "RETRY_BASE_MS"
    case retryCapMs = "RETRY_CAP_MS"
    case retryAttempts = "RETRY_ATTEMPTS"
    case drainTimeoutMs = "DRAIN_TIMEOUT_MS"
    case retryMaxElapsed = "RETRY_MAX_ELAPSED"
    case breakerFailures = "BREAKER_FAILURES"
    case phoneRiskMaxRps = "PHONE_RISK_MAX_RPS"
    case numberScoringMaxRps = "NUMBER_SCORING_MAX_RPS"
    case providerTimeoutMs = "PROVIDER_TIMEOUT_MS"
    case providerCaFile = "PROVIDER_CA_FILE"
    case httpsProxy = "HTTPS_PROXY"
    case noProxy = "NO_PROXY"
    case claimLease = "CLAIM_LEASE"
    case numberScoringCacheTtl = "NUMBER_SCORING_CACHE_TTL"
    case numberScoringLinger = "NUMBER_SCORING_LINGER"

    /// The settings of the commands that only talk to Kafka (`publish`, `topics`, `dlq`, `replay`).
    public static let kafka: [Setting] = [.kafkaBrokers, .kafkaInputTopic, .kafkaOutputTopic, .kafkaDlqTopic, .kafkaProperties]

    /// The environment variable, also the setting's name in a settings file and in messages.
    public var name: String { rawValue }

    /// The long flag without its dashes: `kafka-brokers` for `KAFKA_BROKERS`.
    public var flag: String { rawValue.lowercased().replacing("_", with: "-") }

    /// Whether the value is secret: never printed, and also read from the file that ``fileName`` names.
    var isSecret: Bool { entry.isSecret }

    /// `<NAME>_FILE`, the setting that names a file holding this secret's value; nil for a setting that is not secret.
    public var fileName: String? { isSecret ? rawValue + "_FILE" : nil }

    /// One line of help: what the setting is, its environment variable and its default.
    public var help: String {
        var notes = [rawValue]
        if !entry.defaultValue.isEmpty {
            notes.append("default \(entry.defaultValue)")
        } else if let note = entry.defaultNote {
            notes.append("default: \(note)")
        }
        let secret = fileName.map { "; prefer the environment or \($0)" } ?? ""
        return "\(entry.summary) (\(notes.joined(separator: ", "))\(secret))."
    }

    /// The placeholder of the flag's value in help, where the flag's name would say less.
    public var valueName: String? { entry.valueName }

    /// The value used when the setting is unset or empty; empty when there is none.
    var defaultValue: String { entry.defaultValue }

    /// The configuration key: `kafka.brokers`, which the environment provider reads as `KAFKA_BROKERS`.
    var key: ConfigKey { ConfigKey(rawValue.lowercased().split(separator: "_").map(String.init)) }

    /// The key of ``fileName``: `phone.risk.token.file`.
    var fileKey: ConfigKey { ConfigKey(key.components + ["file"]) }

    /// The setting a settings file's name stands for, and whether the name is its `<NAME>_FILE`.
    static func named(_ name: String) -> (setting: Setting, isFile: Bool)? {
        if let setting = Setting(rawValue: name) { return (setting, false) }
        if name.hasSuffix("_FILE"), let setting = Setting(rawValue: String(name.dropLast(5))), setting.isSecret {
            return (setting, true)
        }
        return nil
    }

    /// What the table says of one setting.
    private struct Entry {
        var summary: String
        var defaultValue = ""
        var defaultNote: String?
        var valueName: String?
        var isSecret = false
    }

    /// The table.
    private var entry: Entry {
        switch self {
        case .kafkaBrokers: Entry(summary: "Bootstrap servers", defaultValue: "localhost:9092", valueName: "host:port,…")
        case .kafkaGroupId: Entry(summary: "Consumer group", defaultValue: "risk-worker")
        case .kafkaInputTopic: Entry(summary: "Input topic", defaultValue: "account-lifecycle-events", valueName: "topic")
        case .kafkaOutputTopic: Entry(summary: "Output topic", defaultValue: "account-lifecycle-scored", valueName: "topic")
        case .kafkaDlqTopic: Entry(summary: "Dead-letter topic", defaultValue: "account-lifecycle-dlq", valueName: "topic")
        case .kafkaProperties: Entry(summary: "Extra librdkafka properties", valueName: "k=v,…")
        case .kafkaGroupInstanceId: Entry(summary: "Static group membership id, so that a restart does not rebalance")
        case .kafkaTransactionalId: Entry(summary: "This instance's transactional id", defaultNote: "group id and host name")
        case .phoneRiskUrl: Entry(summary: "Phone risk API base URL")
        case .phoneRiskToken: Entry(summary: "Phone risk bearer token", isSecret: true)
        case .phoneRiskApiKey:
            Entry(summary: "Phone risk API key, with --\(Setting.phoneRiskCustomerId.flag), for the token endpoint", isSecret: true)
        case .phoneRiskCustomerId: Entry(summary: "Phone risk customer id")
        case .numberScoringUrl: Entry(summary: "Number scoring API base URL")
        case .numberScoringApiKey: Entry(summary: "Number scoring API key", isSecret: true)
        case .idempotencyStore:
            Entry(
                summary: "sqlite:///path or postgres://user:pw@host:port/db",
                defaultNote: "\(IdempotencyStoreLocation.defaultSQLitePath) in the working directory")
        case .delivery: Entry(summary: "exactly-once or at-least-once", defaultValue: "exactly-once")
        case .metricsPort: Entry(summary: "Port of /metrics and /health/*", defaultValue: "9464")
        case .maxInFlight: Entry(summary: "Events processed at once", defaultValue: "512")
        case .errorPolicy: Entry(summary: "Error policy overrides, such as number-scoring:7=dead-letter")
        case .retryBaseMs: Entry(summary: "First retry delay in ms", defaultValue: "200")
        case .retryCapMs: Entry(summary: "Longest retry delay in ms", defaultValue: "10000")
        case .retryAttempts: Entry(summary: "Attempts per provider call, the first included", defaultValue: "5")
        case .drainTimeoutMs:
            Entry(summary: "How long shutdown and revocation wait for work in flight, ms", defaultValue: "30000")
        case .retryMaxElapsed:
            Entry(
                summary: "Longest an event's provider call is retried, waits for an open circuit not counted (ms, s, m, h)",
                defaultValue: "5m", valueName: "duration")
        case .breakerFailures:
            Entry(summary: "Provider failures of distinct requests in a row that open a provider's circuit", defaultValue: "5")
        case .phoneRiskMaxRps: Entry(summary: "Most phone risk requests a second", defaultNote: "no limit", valueName: "rate")
        case .numberScoringMaxRps: Entry(summary: "Most numbers looked up a second", defaultNote: "no limit", valueName: "rate")
        case .providerTimeoutMs: Entry(summary: "How long one provider request may take, ms", defaultValue: "10000")
        case .providerCaFile:
            Entry(summary: "PEM file of CA certificates trusted for the providers besides the system's", valueName: "path")
        case .httpsProxy: Entry(summary: "HTTP proxy the provider requests go through (CONNECT)", valueName: "http://[user:pw@]host:port")
        case .noProxy: Entry(summary: "Hosts reached without the proxy, curl-style", valueName: "host,.domain,…")
        case .claimLease:
            Entry(
                summary: "How long an instance's claim on an externalId lasts unless renewed; others take over an expired one",
                defaultValue: "30s", valueName: "duration")
        case .numberScoringCacheTtl:
            Entry(
                summary: "How long a number's scoring record is reused for later events (0: off; at most 7 days)",
                defaultValue: "0", valueName: "duration")
        case .numberScoringLinger:
            Entry(
                summary: "How long a number-scoring request waits for more numbers after its first (0: none; at most 1s)",
                defaultValue: "5ms", valueName: "duration")
        }
    }
}
