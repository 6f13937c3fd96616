import Foundation
import IdempotencyStore
import Kafka
import RiskPipeline

/// Everything `risk-worker` is configured with, read from flags, environment and an optional file.
///
/// Precedence: flags over environment over file over defaults. Every setting is named as its environment
/// variable (flags use the same names, the executable maps `--kafka-brokers` to `KAFKA_BROKERS`); secrets may
/// also come from a file named by `<NAME>_FILE`. Loading reports every problem at once, one line each, naming
/// the setting, and never prints a secret's value.
public struct WorkerSettings: Sendable, CustomStringConvertible {
    /// `KAFKA_BROKERS`: the bootstrap servers.
    public var brokers = "localhost:9092"
    /// `KAFKA_GROUP_ID`: the consumer group.
    public var groupID = "risk-worker"
    /// `KAFKA_INPUT_TOPIC`: where lifecycle events are read.
    public var inputTopic = "account-lifecycle-events"
    /// `KAFKA_OUTPUT_TOPIC`: where scored events go.
    public var outputTopic = "account-lifecycle-scored"
    /// `KAFKA_DLQ_TOPIC`: where dead letters go.
    public var deadLetterTopic = "account-lifecycle-dlq"
    /// `KAFKA_PROPERTIES`: extra librdkafka properties.
    public var kafkaProperties: [String: String] = [:]
    /// `PHONE_RISK_URL`: the phone risk API's base URL.
    public var phoneRiskURL = ""
    /// `PHONE_RISK_TOKEN`, or `PHONE_RISK_API_KEY` with `PHONE_RISK_CUSTOMER_ID`.
    public var phoneRiskCredentials = ProviderConnections.PhoneRiskCredentials.token("")
    /// `NUMBER_SCORING_URL`: the number scoring API's base URL.
    public var numberScoringURL = ""
    /// `NUMBER_SCORING_API_KEY`.
    public var numberScoringAPIKey = ""
    /// `IDEMPOTENCY_STORE`: where provider results are remembered.
    public var idempotencyStore = IdempotencyStoreLocation.default
    /// `DELIVERY`: exactly-once (default) or at-least-once.
    public var delivery = Delivery.exactlyOnce
    /// `METRICS_PORT`: the port of `/metrics` and `/health/*`.
    public var metricsPort = 9464
    /// `MAX_IN_FLIGHT`: events being processed at once.
    public var maxInFlight = 512
    /// `ERROR_POLICY`: overrides of the error policy, such as `number-scoring:7=dead-letter`.
    public var errorPolicy = ErrorPolicy.standard
    /// `RETRY_BASE_MS`, `RETRY_CAP_MS`, `RETRY_ATTEMPTS`: backoff of provider retries.
    public var retry = RetrySchedule.providerCalls
    /// `DRAIN_TIMEOUT_MS`: how long shutdown waits for work in flight.
    public var drainTimeout = Duration.seconds(30)
    /// `KAFKA_GROUP_INSTANCE_ID`: static group membership, so that a restart does not rebalance.
    public var groupInstanceID: String?
    /// `KAFKA_TRANSACTIONAL_ID`: this instance's stable transactional id (default: group id and host name).
    public var transactionalID: String?

    /// What the worker's sessions need of these settings.
    public var worker: WorkerConfiguration {
        var worker = WorkerConfiguration()
        worker.brokers = brokers
        worker.groupID = groupID
        worker.inputTopic = inputTopic
        worker.outputTopic = outputTopic
        worker.deadLetterTopic = deadLetterTopic
        worker.kafkaProperties = kafkaProperties
        worker.groupInstanceID = groupInstanceID
        worker.transactionalID = transactionalID
        worker.delivery = delivery
        worker.maxInFlight = maxInFlight
        worker.drainTimeout = drainTimeout
        return worker
    }

    /// Where the providers are and how to authenticate with them.
    public var providers: ProviderConnections.Configuration {
        ProviderConnections.Configuration(
            phoneRiskURL: phoneRiskURL, phoneRiskCredentials: phoneRiskCredentials,
            numberScoringURL: numberScoringURL, numberScoringAPIKey: numberScoringAPIKey)
    }

    /// Every setting name this type reads, for checks of deployment files.
    public static let names: [String] = [
        "KAFKA_BROKERS", "KAFKA_GROUP_ID", "KAFKA_INPUT_TOPIC", "KAFKA_OUTPUT_TOPIC", "KAFKA_DLQ_TOPIC", "KAFKA_PROPERTIES",
        "KAFKA_GROUP_INSTANCE_ID", "KAFKA_TRANSACTIONAL_ID",
        "PHONE_RISK_URL", "PHONE_RISK_TOKEN", "PHONE_RISK_API_KEY", "PHONE_RISK_CUSTOMER_ID",
        "NUMBER_SCORING_URL", "NUMBER_SCORING_API_KEY",
        "IDEMPOTENCY_STORE", "DELIVERY", "METRICS_PORT", "MAX_IN_FLIGHT", "ERROR_POLICY",
        "RETRY_BASE_MS", "RETRY_CAP_MS", "RETRY_ATTEMPTS", "DRAIN_TIMEOUT_MS",
    ]

    /// The settings whose values are secret: never printed, and also read from `<NAME>_FILE`.
    public static let secretNames: Set<String> = ["PHONE_RISK_TOKEN", "PHONE_RISK_API_KEY", "NUMBER_SCORING_API_KEY"]

    /// Settings with every default (not yet valid: the provider URLs and credentials have none).
    public init() {}

    /// Loads settings from flags, environment and the text of an optional `KEY=VALUE` file.
    public static func load(
        flags: [String: String] = [:],
        environment: [String: String],
        file: String? = nil,
        readFile: @escaping (String) throws -> String = { try String(contentsOfFile: $0, encoding: .utf8) }
    ) throws(SettingsError) -> WorkerSettings {
        var sources = SettingSources(flags: flags, environment: environment, file: file, readFile: readFile)
        var problems: [String] = []
        func value(_ name: String) -> String? { sources.value(name) }
        func integer(_ name: String, in range: ClosedRange<Int>) -> Int? {
            guard let text = value(name) else { return nil }
            guard let number = Int(text), range.contains(number) else {
                problems.append("\(name): '\(text)' is not a whole number from \(range.lowerBound) to \(range.upperBound)")
                return nil
            }
            return number
        }

        var settings = WorkerSettings()
        let kafka = sources.kafka()
        settings.brokers = kafka.brokers
        settings.inputTopic = kafka.inputTopic
        settings.outputTopic = kafka.outputTopic
        settings.deadLetterTopic = kafka.deadLetterTopic
        settings.kafkaProperties = kafka.kafkaProperties
        if let group = value("KAFKA_GROUP_ID") { settings.groupID = group }
        settings.groupInstanceID = value("KAFKA_GROUP_INSTANCE_ID")
        settings.transactionalID = value("KAFKA_TRANSACTIONAL_ID")
        settings.phoneRiskURL = checkedURL("PHONE_RISK_URL", value("PHONE_RISK_URL"), &problems)
        settings.numberScoringURL = checkedURL("NUMBER_SCORING_URL", value("NUMBER_SCORING_URL"), &problems)
        let token = value("PHONE_RISK_TOKEN")
        let apiKey = value("PHONE_RISK_API_KEY")
        let customerID = value("PHONE_RISK_CUSTOMER_ID")
        switch (token, apiKey, customerID) {
        case (let token?, nil, nil):
            settings.phoneRiskCredentials = .token(token)
        case (nil, let apiKey?, let customerID?):
            settings.phoneRiskCredentials = .tokenEndpoint(apiKey: apiKey, customerID: customerID)
        case (nil, nil, nil):
            problems.append("PHONE_RISK_TOKEN (or PHONE_RISK_API_KEY with PHONE_RISK_CUSTOMER_ID) is required")
        case (nil, _, _):
            problems.append("PHONE_RISK_API_KEY and PHONE_RISK_CUSTOMER_ID go together: set both")
        case (.some, _, _):
            problems.append("PHONE_RISK_TOKEN: set either it or PHONE_RISK_API_KEY with PHONE_RISK_CUSTOMER_ID, not both")
        }
        if let key = value("NUMBER_SCORING_API_KEY") {
            settings.numberScoringAPIKey = key
        } else {
            problems.append("NUMBER_SCORING_API_KEY is required")
        }

        do {
            settings.idempotencyStore = try IdempotencyStoreLocation.parse(value("IDEMPOTENCY_STORE"))
        } catch {
            problems.append(error.message)
        }
        if let text = value("DELIVERY") {
            if let delivery = Delivery(rawValue: text) {
                settings.delivery = delivery
            } else {
                problems.append("DELIVERY: '\(text)' is not exactly-once or at-least-once")
            }
        }
        if let port = integer("METRICS_PORT", in: 0...65535) { settings.metricsPort = port }
        if let limit = integer("MAX_IN_FLIGHT", in: 1...100_000) { settings.maxInFlight = limit }
        if let text = value("ERROR_POLICY") {
            do {
                settings.errorPolicy = try ErrorPolicy(parsing: text)
            } catch {
                problems.append("ERROR_POLICY: \(error)")
            }
        }
        let base = integer("RETRY_BASE_MS", in: 1...600_000)
        let cap = integer("RETRY_CAP_MS", in: 1...3_600_000)
        let attempts = integer("RETRY_ATTEMPTS", in: 1...100)
        if base != nil || cap != nil || attempts != nil {
            let defaults = RetrySchedule.providerCalls
            settings.retry = RetrySchedule(
                base: base.map { .milliseconds($0) } ?? defaults.base,
                cap: cap.map { .milliseconds($0) } ?? defaults.cap,
                maxAttempts: attempts ?? defaults.maxAttempts,
                retryAfterCap: defaults.retryAfterCap,
                jitter: defaults.jitter
            )
        }
        if let drain = integer("DRAIN_TIMEOUT_MS", in: 0...3_600_000) { settings.drainTimeout = .milliseconds(drain) }

        problems = sources.problems + problems
        guard problems.isEmpty else { throw SettingsError(problems: problems) }
        return settings
    }

    /// Parses `KEY=VALUE` lines; blank lines and `#` comments are skipped, values may be quoted.
    static func parseFile(_ text: String) throws -> [String: String] {
        var values: [String: String] = [:]
        var problems: [String] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "="), equals != line.startIndex else {
                problems.append("line \(number + 1) is not NAME=value")
                continue
            }
            let name = line[..<equals].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let first = value.first, first == value.last, first == "\"" || first == "'" {
                value = String(value.dropFirst().dropLast())
            }
            let known = names.contains(name) || (name.hasSuffix("_FILE") && secretNames.contains(String(name.dropLast(5))))
            if !known { problems.append("line \(number + 1): unknown setting \(name)") }
            values[name] = value
        }
        if !problems.isEmpty { throw SettingsError(problems: problems) }
        return values
    }

    /// The URL if it is an absolute http(s) URL; records a problem otherwise.
    private static func checkedURL(_ name: String, _ value: String?, _ problems: inout [String]) -> String {
        guard let value else {
            problems.append("\(name) is required")
            return ""
        }
        guard let url = URL(string: value), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            url.host?.isEmpty == false
        else {
            problems.append("\(name): '\(value)' is not an http or https URL")
            return ""
        }
        return value.hasSuffix("/") ? String(value.dropLast()) : value
    }

    public var description: String {
        let credentials: String
        switch phoneRiskCredentials {
        case .token: credentials = "token (hidden)"
        case .tokenEndpoint: credentials = "API key and customer id (hidden)"
        }
        return "brokers=\(brokers) group=\(groupID) input=\(inputTopic) output=\(outputTopic) dlq=\(deadLetterTopic) "
            + "delivery=\(delivery.rawValue) store=\(idempotencyStore) phoneRisk=\(phoneRiskURL) [\(credentials)] "
            + "numberScoring=\(numberScoringURL) [API key hidden] maxInFlight=\(maxInFlight) metricsPort=\(metricsPort)"
    }
}

/// Settings that are missing or invalid: one line per problem, each naming the setting.
public struct SettingsError: Error, Sendable, CustomStringConvertible {
    /// One line per problem.
    public let problems: [String]

    public var description: String { problems.joined(separator: "\n") }
}
