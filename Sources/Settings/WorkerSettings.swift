import Foundation
import IdempotencyStore
import Kafka
import RiskPipeline
import RiskPolicy
import ScoringAPI

/// Everything `risk-worker run` and `check` are configured with, read from flags, environment and an optional file,
/// as the narrow configurations the parts that use them take.
///
/// Precedence: flags over environment over file over defaults (``Setting`` declares every setting, its flag and
/// default); empty values count as unset, and a secret may also come from a file named by `<NAME>_FILE`. Loading
/// reports every problem at once, one line each, naming the setting, and never prints a secret's value.
public struct WorkerSettings: Sendable, CustomStringConvertible {
    /// What the worker's sessions need: the cluster, the group, the three topics, delivery and its limits.
    public var worker: WorkerConfiguration
    /// Where the providers are and how to authenticate with them.
    public var providers: ProviderConnections.Configuration
    /// `IDEMPOTENCY_STORE`: where provider results are remembered.
    public var idempotencyStore: IdempotencyStoreLocation
    /// `METRICS_PORT`: the port of `/metrics` and `/health/*`.
    public var metricsPort: Int
    /// `ERROR_POLICY`: the error policy with its overrides, such as `number-scoring:7=dead-letter`.
    public var errorPolicy: ErrorPolicy
    /// `RETRY_BASE_MS`, `RETRY_CAP_MS`, `RETRY_ATTEMPTS`: backoff of provider retries.
    public var retry: RetrySchedule
    /// Every retry schedule, `RETRY_*` and `RETRY_MAX_ELAPSED` applied.
    public var retries: RetryTable
    /// `BREAKER_FAILURES`, `PHONE_RISK_MAX_RPS`, `NUMBER_SCORING_MAX_RPS`: the providers' breakers and rate limits.
    public var flow: ProviderHealth.FlowSettings
    /// `PROVIDER_TIMEOUT_MS`: how long one provider request may take.
    public var providerTimeout: Duration
    /// `NUMBER_SCORING_CACHE_TTL`: how long a number's scoring record is reused (zero: not at all).
    public var numberScoringCacheTTL: Duration
    /// `NUMBER_SCORING_LINGER`: how long a number-scoring request waits for more numbers after its first.
    public var numberScoringLinger: Duration

    /// Loads settings from flags (by setting name), environment and the text of an optional `KEY=VALUE` file.
    public static func load(
        flags: [String: String] = [:],
        environment: [String: String],
        file: String? = nil,
        readFile: @escaping @Sendable (String) throws -> String = { try String(contentsOfFile: $0, encoding: .utf8) }
    ) throws(SettingsError) -> WorkerSettings {
        var sources = SettingSources(flags: flags, environment: environment, file: file, readFile: readFile)
        var problems: [String] = []
        func integer(_ setting: Setting, in range: ClosedRange<Int>) -> Int? {
            guard let text = sources.value(setting) else { return nil }
            guard let number = Int(text), range.contains(number) else {
                problems.append("\(setting.name): '\(text)' is not a whole number from \(range.lowerBound) to \(range.upperBound)")
                return nil
            }
            return number
        }

        let kafka = sources.kafka()
        var worker = WorkerConfiguration()
        worker.brokers = kafka.brokers
        worker.inputTopic = kafka.inputTopic
        worker.outputTopic = kafka.outputTopic
        worker.deadLetterTopic = kafka.deadLetterTopic
        worker.kafkaProperties = kafka.kafkaProperties
        if let group = sources.value(.kafkaGroupId) { worker.groupID = group }
        worker.groupInstanceID = sources.value(.kafkaGroupInstanceId)
        worker.transactionalID = sources.value(.kafkaTransactionalId)

        let phoneRiskURL = checkedURL(.phoneRiskUrl, sources.value(.phoneRiskUrl), &problems)
        let numberScoringURL = checkedURL(.numberScoringUrl, sources.value(.numberScoringUrl), &problems)
        var credentials = ProviderConnections.PhoneRiskCredentials.token("")
        let token = sources.value(.phoneRiskToken)
        let apiKey = sources.value(.phoneRiskApiKey)
        let customerID = sources.value(.phoneRiskCustomerId)
        let tokenName = Setting.phoneRiskToken.name
        let apiKeyName = Setting.phoneRiskApiKey.name
        let customerIDName = Setting.phoneRiskCustomerId.name
        switch (token, apiKey, customerID) {
        case (let token?, nil, nil):
            credentials = .token(token)
        case (nil, let apiKey?, let customerID?):
            credentials = .tokenEndpoint(apiKey: apiKey, customerID: customerID)
        case (nil, nil, nil):
            problems.append("\(tokenName) (or \(apiKeyName) with \(customerIDName)) is required")
        case (nil, _, _):
            problems.append("\(apiKeyName) and \(customerIDName) go together: set both")
        case (.some, _, _):
            problems.append("\(tokenName): set either it or \(apiKeyName) with \(customerIDName), not both")
        }
        let numberScoringAPIKey = sources.value(.numberScoringApiKey) ?? ""
        if numberScoringAPIKey.isEmpty { problems.append("\(Setting.numberScoringApiKey.name) is required") }
        var caCertificates: CACertificateBundle?
        if let path = sources.value(.providerCaFile) {
            do {
                caCertificates = try CACertificateBundle(pemFile: path)
            } catch {
                problems.append("\(Setting.providerCaFile.name): \(error.message)")
            }
        }
        var proxy: HTTPProxy?
        if let text = sources.value(.httpsProxy) {
            do {
                proxy = try HTTPProxy(url: text)
            } catch {
                problems.append("\(Setting.httpsProxy.name): \(error.message)")
            }
        }
        let noProxy = NoProxyList(sources.value(.noProxy) ?? "")
        if !noProxy.ignored.isEmpty {
            problems.append("\(Setting.noProxy.name): cannot read \(noProxy.ignored.map { "'\($0)'" }.joined(separator: ", "))")
        }
        let providers = ProviderConnections.Configuration(
            phoneRiskURL: phoneRiskURL, phoneRiskCredentials: credentials,
            numberScoringURL: numberScoringURL, numberScoringAPIKey: numberScoringAPIKey,
            caCertificates: caCertificates, proxy: proxy, noProxy: noProxy)

        var idempotencyStore = IdempotencyStoreLocation.default
        do {
            idempotencyStore = try IdempotencyStoreLocation.parse(sources.value(.idempotencyStore))
        } catch {
            problems.append("\(Setting.idempotencyStore.name): \(error.message)")
        }
        if let text = sources.value(.delivery) {
            if let delivery = Delivery(rawValue: text) {
                worker.delivery = delivery
            } else {
                problems.append("\(Setting.delivery.name): '\(text)' is not exactly-once or at-least-once")
            }
        }
        let metricsPort = integer(.metricsPort, in: 0...65535) ?? 0
        if let limit = integer(.maxInFlight, in: 1...100_000) { worker.maxInFlight = limit }
        var errorPolicy = ErrorPolicy.standard
        if let text = sources.value(.errorPolicy) {
            do {
                errorPolicy = try ErrorPolicy(parsing: text)
            } catch {
                problems.append("\(Setting.errorPolicy.name): \(error)")
            }
        }
        let defaults = RetrySchedule.providerCalls
        let base = integer(.retryBaseMs, in: 1...600_000)
        let cap = integer(.retryCapMs, in: 1...3_600_000)
        let attempts = integer(.retryAttempts, in: 1...100)
        let retry = RetrySchedule(
            base: base.map { .milliseconds($0) } ?? defaults.base,
            cap: cap.map { .milliseconds($0) } ?? defaults.cap,
            maxAttempts: attempts ?? defaults.maxAttempts,
            retryAfterCap: defaults.retryAfterCap,
            jitter: defaults.jitter
        )
        if let drain = integer(.drainTimeoutMs, in: 0...3_600_000) { worker.drainTimeout = .milliseconds(drain) }
        var retries = RetryTable(providerCalls: retry)
        if let text = sources.value(.retryMaxElapsed) {
            if let elapsed = parseDuration(text), elapsed > .zero {
                retries.providerCallsMaxElapsed = elapsed
            } else {
                problems.append("\(Setting.retryMaxElapsed.name): '\(text)' is not a duration such as 500ms, 90s, 5m or 1h")
            }
        }
        var flow = ProviderHealth.FlowSettings(breakerProbes: retries.breakerProbes)
        if let failures = integer(.breakerFailures, in: 1...10_000) { flow.breakerFailures = failures }
        func rate(_ setting: Setting) -> Double? {
            guard let text = sources.value(setting) else { return nil }
            guard let rate = Double(text), rate.isFinite, rate >= 0.1, rate <= 1_000_000 else {
                problems.append("\(setting.name): '\(text)' is not a rate from 0.1 to 1000000 a second")
                return nil
            }
            return rate
        }
        flow.phoneRiskMaxRate = rate(.phoneRiskMaxRps)
        flow.numberScoringMaxRate = rate(.numberScoringMaxRps)
        let providerTimeout = integer(.providerTimeoutMs, in: 100...600_000).map { Duration.milliseconds($0) } ?? .seconds(10)
        func duration(_ setting: Setting, in range: ClosedRange<Duration>, example: String) -> Duration? {
            guard let text = sources.value(setting) else { return nil }
            guard let value = parseDuration(text), range.contains(value) else {
                problems.append("\(setting.name): '\(text)' is not a duration from \(example) (ms, s, m or h)")
                return nil
            }
            return value
        }
        if let lease = duration(.claimLease, in: .seconds(1)...(.seconds(3600)), example: "1s to 1h") { worker.claimLease = lease }
        // Cached records live in the store, whose retention purges them after 7 days whatever the TTL.
        let cacheTTL = duration(.numberScoringCacheTtl, in: .zero...IdempotencyRetention<ContinuousClock>.defaultRetention, example: "0 to 168h") ?? .zero
        let linger = duration(.numberScoringLinger, in: .zero...(.seconds(1)), example: "0 to 1s") ?? .milliseconds(5)

        problems = sources.problems + problems
        guard problems.isEmpty else { throw SettingsError(problems: problems) }
        return WorkerSettings(
            worker: worker, providers: providers, idempotencyStore: idempotencyStore, metricsPort: metricsPort,
            errorPolicy: errorPolicy, retry: retry, retries: retries, flow: flow, providerTimeout: providerTimeout,
            numberScoringCacheTTL: cacheTTL, numberScoringLinger: linger)
    }

    /// A duration written as a whole number with `ms`, `s`, `m` or `h` (a bare number is seconds).
    static func parseDuration(_ text: String) -> Duration? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let unit = units.first { trimmed.hasSuffix($0.0) && Int64(trimmed.dropLast($0.0.count)) != nil }
        let number = unit.map { trimmed.dropLast($0.0.count) } ?? Substring(trimmed)
        guard let value = Int64(number), value >= 0, value <= 365 * 24 * 3_600_000 / (unit?.1 ?? 1000) else { return nil }
        return .milliseconds(value * (unit?.1 ?? 1000))
    }

    /// The URL if it is an absolute http(s) URL, without a trailing slash; records a problem otherwise.
    private static func checkedURL(_ setting: Setting, _ value: String?, _ problems: inout [String]) -> String {
        guard let value else {
            problems.append("\(setting.name) is required")
            return ""
        }
        guard let url = URL(string: value), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            url.host?.isEmpty == false
        else {
            problems.append("\(setting.name): '\(value)' is not an http or https URL")
            return ""
        }
        return value.hasSuffix("/") ? String(value.dropLast()) : value
    }

    public var description: String {
        let credentials: String
        switch providers.phoneRiskCredentials {
        case .token: credentials = "token (hidden)"
        case .tokenEndpoint: credentials = "API key and customer id (hidden)"
        }
        return "brokers=\(worker.brokers) group=\(worker.groupID) input=\(worker.inputTopic) output=\(worker.outputTopic) "
            + "dlq=\(worker.deadLetterTopic) delivery=\(worker.delivery.rawValue) store=\(idempotencyStore) "
            + "phoneRisk=\(providers.phoneRiskURL) [\(credentials)] numberScoring=\(providers.numberScoringURL) [API key hidden] "
            + "maxInFlight=\(worker.maxInFlight) metricsPort=\(metricsPort) claimLease=\(worker.claimLease) "
            + "numberScoringLinger=\(numberScoringLinger)"
            + (numberScoringCacheTTL > .zero ? " numberScoringCacheTTL=\(numberScoringCacheTTL)" : "")
            + (providers.proxy.map { " proxy=\($0)" } ?? "")
    }
}

/// Settings that are missing or invalid: one line per problem, each naming the setting.
public struct SettingsError: Error, Sendable, CustomStringConvertible {
    /// One line per problem.
    public let problems: [String]

    public var description: String { problems.joined(separator: "\n") }
}
