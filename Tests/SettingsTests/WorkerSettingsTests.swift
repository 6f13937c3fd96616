import RiskPipeline
import RiskPolicy
import ScoringAPI
import Testing
@testable import Settings

@Suite("Worker settings")
struct WorkerSettingsTests {
    private let required = [
        "PHONE_RISK_URL": "http://127.0.0.1:8089",
        "PHONE_RISK_TOKEN": "secret-token-123",
        "NUMBER_SCORING_URL": "http://127.0.0.1:8089/",
        "NUMBER_SCORING_API_KEY": "secret-key-456",
    ]

    @Test func defaultsApplyWhenOnlyTheRequiredSettingsAreGiven() throws {
        let settings = try WorkerSettings.load(environment: required)
        #expect(settings.worker.brokers == "localhost:9092")
        #expect(settings.worker.groupID == "risk-worker")
        #expect(settings.worker.inputTopic == "account-lifecycle-events")
        #expect(settings.worker.outputTopic == "account-lifecycle-scored")
        #expect(settings.worker.deadLetterTopic == "account-lifecycle-dlq")
        #expect(settings.worker.kafkaProperties.isEmpty)
        #expect(settings.worker.groupInstanceID == nil)
        #expect(settings.worker.transactionalID == nil)
        #expect(settings.worker.delivery == .exactlyOnce)
        #expect(settings.metricsPort == 9464)
        #expect(settings.worker.maxInFlight == 512)
        #expect(settings.worker.drainTimeout == .seconds(30))
        #expect(settings.retry == .providerCalls)
        #expect(settings.errorPolicy == .standard)
        #expect(settings.idempotencyStore == .default)
        #expect(settings.providers.numberScoringURL == "http://127.0.0.1:8089")
        #expect(settings.providers.phoneRiskCredentials == .token("secret-token-123"))
    }

    @Test func flagsBeatEnvironmentWhichBeatsTheFile() throws {
        let file = "KAFKA_BROKERS=file:1\nKAFKA_GROUP_ID=file-group\n# a comment\nKAFKA_INPUT_TOPIC='file-input'\n"
        let settings = try WorkerSettings.load(
            flags: ["KAFKA_BROKERS": "flag:1"],
            environment: required.merging(["KAFKA_BROKERS": "env:1", "KAFKA_GROUP_ID": "env-group"]) { $1 },
            file: "worker.env",
            readFile: { _ in file }
        )
        #expect(settings.worker.brokers == "flag:1")
        #expect(settings.worker.groupID == "env-group")
        #expect(settings.worker.inputTopic == "file-input")
    }

    @Test func secretsComeFromFilesToo() throws {
        var environment = required
        environment["NUMBER_SCORING_API_KEY"] = nil
        environment["NUMBER_SCORING_API_KEY_FILE"] = "/run/secrets/ns"
        let settings = try WorkerSettings.load(environment: environment, readFile: { path in
            path == "/run/secrets/ns" ? "from-file\n" : ""
        })
        #expect(settings.providers.numberScoringAPIKey == "from-file")
    }

    @Test func everyProblemIsReportedOnItsOwnLineNamingTheSettingWithoutSecrets() {
        let environment = [
            "PHONE_RISK_URL": "not a url",
            "PHONE_RISK_API_KEY": "secret-api-key-789",
            "DELIVERY": "twice",
            "METRICS_PORT": "70000",
            "MAX_IN_FLIGHT": "zero",
            "KAFKA_PROPERTIES": "no.such.property=1",
            "ERROR_POLICY": "number-scoring:7=explode",
            "IDEMPOTENCY_STORE": "mysql://user:hunter2@db/x",
        ]
        let error = #expect(throws: SettingsError.self) { try WorkerSettings.load(environment: environment) }
        let problems = error?.problems ?? []
        for name in [
            "PHONE_RISK_URL", "PHONE_RISK_API_KEY", "NUMBER_SCORING_URL", "NUMBER_SCORING_API_KEY", "DELIVERY",
            "METRICS_PORT", "MAX_IN_FLIGHT", "KAFKA_PROPERTIES", "ERROR_POLICY", "IDEMPOTENCY_STORE",
        ] {
            #expect(problems.contains { $0.contains(name) }, "no line names \(name): \(problems)")
        }
        #expect(problems.allSatisfy { !$0.contains("\n") })
        #expect(!problems.joined().contains("secret-api-key-789"))
        #expect(!problems.joined().contains("hunter2"))
    }

    @Test func anUnknownNameInTheFileIsAnError() {
        let error = #expect(throws: SettingsError.self) {
            try WorkerSettings.load(environment: required, file: "w.env", readFile: { _ in "KAFKA_BROKER=typo:1\n" })
        }
        #expect(error?.problems.first?.contains("KAFKA_BROKER") == true)
    }

    @Test func theDescriptionHidesSecrets() throws {
        let settings = try WorkerSettings.load(environment: required)
        #expect(!settings.description.contains("secret-token-123"))
        #expect(!settings.description.contains("secret-key-456"))
    }
}

@Suite("Worker settings: every problem at once")
struct WorkerSettingsProblemTests {
    @Test func fileLinesSecretFilesAndBadValuesAreReportedTogetherFileFirst() {
        let file = "KAFKA_BROKER=typo:1\n"
        let environment = [
            "PHONE_RISK_URL": "http://127.0.0.1:8089",
            "PHONE_RISK_TOKEN_FILE": "/run/secrets/none",
            "NUMBER_SCORING_URL": "ftp://127.0.0.1",
            "NUMBER_SCORING_API_KEY": "secret-key-456",
            "METRICS_PORT": "http",
            "RETRY_ATTEMPTS": "0",
            "DRAIN_TIMEOUT_MS": "-1",
        ]
        let error = #expect(throws: SettingsError.self) {
            try WorkerSettings.load(
                flags: ["MAX_IN_FLIGHT": "many"], environment: environment, file: "w.env",
                readFile: { path in
                    guard path == "w.env" else { throw UnreadableFile() }
                    return file
                })
        }
        #expect(
            error?.problems == [
                "config file w.env: line 1: unknown setting KAFKA_BROKER",
                "PHONE_RISK_TOKEN_FILE: cannot read /run/secrets/none",
                "NUMBER_SCORING_URL: 'ftp://127.0.0.1' is not an http or https URL",
                "PHONE_RISK_TOKEN (or PHONE_RISK_API_KEY with PHONE_RISK_CUSTOMER_ID) is required",
                "METRICS_PORT: 'http' is not a whole number from 0 to 65535",
                "MAX_IN_FLIGHT: 'many' is not a whole number from 1 to 100000",
                "RETRY_ATTEMPTS: '0' is not a whole number from 1 to 100",
                "DRAIN_TIMEOUT_MS: '-1' is not a whole number from 0 to 3600000",
            ])
        #expect(error?.description.contains("secret-key-456") == false)
    }

    @Test func theCredentialRulesNameTheSettingsAndNeverTheValues() {
        let base = ["PHONE_RISK_URL": "http://a", "NUMBER_SCORING_URL": "http://b", "NUMBER_SCORING_API_KEY": "k"]
        let cases: [([String: String], String)] = [
            (["PHONE_RISK_API_KEY": "secret-1"], "PHONE_RISK_API_KEY and PHONE_RISK_CUSTOMER_ID go together: set both"),
            (["PHONE_RISK_CUSTOMER_ID": "c"], "PHONE_RISK_API_KEY and PHONE_RISK_CUSTOMER_ID go together: set both"),
            (["PHONE_RISK_TOKEN": "secret-1", "PHONE_RISK_API_KEY": "secret-2"],
             "PHONE_RISK_TOKEN: set either it or PHONE_RISK_API_KEY with PHONE_RISK_CUSTOMER_ID, not both"),
        ]
        for (extra, message) in cases {
            let error = #expect(throws: SettingsError.self) { try WorkerSettings.load(environment: base.merging(extra) { $1 }) }
            #expect(error?.problems == [message])
        }
        let settings = try? WorkerSettings.load(environment: base.merging(["PHONE_RISK_API_KEY": "key", "PHONE_RISK_CUSTOMER_ID": "c"]) { $1 })
        #expect(settings?.providers.phoneRiskCredentials == .tokenEndpoint(apiKey: "key", customerID: "c"))
    }

    @Test func everySettingIsReadFromItsVariable() throws {
        let environment = [
            "KAFKA_BROKERS": "b:1", "KAFKA_GROUP_ID": "g", "KAFKA_INPUT_TOPIC": "i", "KAFKA_OUTPUT_TOPIC": "o",
            "KAFKA_DLQ_TOPIC": "d", "KAFKA_PROPERTIES": "client.id=x", "KAFKA_GROUP_INSTANCE_ID": "gi",
            "KAFKA_TRANSACTIONAL_ID": "tx", "PHONE_RISK_URL": "https://pr.example/", "PHONE_RISK_TOKEN": "t",
            "NUMBER_SCORING_URL": "https://ns.example", "NUMBER_SCORING_API_KEY": "k",
            "IDEMPOTENCY_STORE": "sqlite:other.sqlite", "DELIVERY": "at-least-once", "METRICS_PORT": "1", "MAX_IN_FLIGHT": "2",
            "ERROR_POLICY": "number-scoring:7=dead-letter", "RETRY_BASE_MS": "3", "RETRY_CAP_MS": "4", "RETRY_ATTEMPTS": "6",
            "DRAIN_TIMEOUT_MS": "7", "RETRY_MAX_ELAPSED": "90s", "BREAKER_FAILURES": "8", "PHONE_RISK_MAX_RPS": "250",
            "NUMBER_SCORING_MAX_RPS": "1000.5", "PROVIDER_TIMEOUT_MS": "2500", "HTTPS_PROXY": "http://u:p@proxy:3128",
            "NO_PROXY": "localhost,.internal", "CLAIM_LEASE": "45s", "NUMBER_SCORING_CACHE_TTL": "24h",
            "NUMBER_SCORING_LINGER": "2ms",
        ]
        // PROVIDER_CA_FILE needs a certificate file: ScoringAPI's tests read one; its problem is checked below.
        #expect(
            Set(environment.keys).union(["PHONE_RISK_API_KEY", "PHONE_RISK_CUSTOMER_ID", "PROVIDER_CA_FILE"])
                == Set(Setting.allCases.map(\.name)))
        let settings = try WorkerSettings.load(environment: environment)
        let worker = settings.worker
        #expect([worker.brokers, worker.groupID, worker.inputTopic, worker.outputTopic, worker.deadLetterTopic] == ["b:1", "g", "i", "o", "d"])
        #expect(worker.kafkaProperties == ["client.id": "x"])
        #expect(worker.groupInstanceID == "gi" && worker.transactionalID == "tx")
        #expect(worker.delivery == .atLeastOnce && worker.maxInFlight == 2 && worker.drainTimeout == .milliseconds(7))
        #expect(settings.providers.phoneRiskURL == "https://pr.example" && settings.providers.numberScoringURL == "https://ns.example")
        #expect(settings.providers.phoneRiskCredentials == .token("t") && settings.providers.numberScoringAPIKey == "k")
        #expect(settings.idempotencyStore == .sqlite(path: "other.sqlite"))
        #expect(settings.metricsPort == 1)
        #expect(settings.errorPolicy == (try ErrorPolicy(parsing: "number-scoring:7=dead-letter")))
        #expect(settings.retry.base == .milliseconds(3) && settings.retry.cap == .milliseconds(4) && settings.retry.maxAttempts == 6)
        #expect(settings.retries.providerCalls == settings.retry && settings.retries.providerCallsMaxElapsed == .seconds(90))
        #expect(settings.flow.breakerFailures == 8)
        #expect(settings.flow.phoneRiskMaxRate == 250 && settings.flow.numberScoringMaxRate == 1000.5)
        #expect(settings.providerTimeout == .milliseconds(2500))
        #expect(settings.providers.proxy == (try HTTPProxy(url: "http://u:p@proxy:3128")))
        #expect(settings.providers.noProxy.matches(host: "api.internal", port: 443))
        #expect(worker.claimLease == .seconds(45) && settings.numberScoringCacheTTL == .seconds(86_400))
        #expect(settings.numberScoringLinger == .milliseconds(2))
        #expect(!settings.description.contains("u:p"), "the proxy's credentials are never printed")
    }

    @Test func badFlowAndEgressSettingsAreReportedOneLineEach() {
        let environment = [
            "PHONE_RISK_URL": "http://a", "PHONE_RISK_TOKEN": "t", "NUMBER_SCORING_URL": "http://b", "NUMBER_SCORING_API_KEY": "k",
            "RETRY_MAX_ELAPSED": "soon", "BREAKER_FAILURES": "0", "PHONE_RISK_MAX_RPS": "0", "NUMBER_SCORING_MAX_RPS": "fast",
            "PROVIDER_TIMEOUT_MS": "5", "PROVIDER_CA_FILE": "/nonexistent/ca.pem", "HTTPS_PROXY": "socks5://proxy:1080",
            "NO_PROXY": "host:notaport", "CLAIM_LEASE": "0s", "NUMBER_SCORING_CACHE_TTL": "30d", "NUMBER_SCORING_LINGER": "2s",
        ]
        let error = #expect(throws: SettingsError.self) { try WorkerSettings.load(environment: environment) }
        let problems = error?.problems ?? []
        for name in ["RETRY_MAX_ELAPSED", "BREAKER_FAILURES", "PHONE_RISK_MAX_RPS", "NUMBER_SCORING_MAX_RPS", "PROVIDER_TIMEOUT_MS",
                     "PROVIDER_CA_FILE", "HTTPS_PROXY", "NO_PROXY", "CLAIM_LEASE", "NUMBER_SCORING_CACHE_TTL", "NUMBER_SCORING_LINGER"] {
            #expect(problems.filter { $0.hasPrefix(name + ":") }.count == 1, "\(name) in \(problems)")
        }
        #expect(problems.count == 11)
    }

    @Test(arguments: [("500ms", Duration.milliseconds(500)), ("90s", .seconds(90)), ("5m", .seconds(300)), ("1h", .seconds(3600)), ("45", .seconds(45))])
    func durationsAreWrittenWithTheirUnit(text: String, duration: Duration) {
        #expect(WorkerSettings.parseDuration(text) == duration)
    }
}

@Suite("Kafka settings")
struct KafkaSettingsTests {
    @Test func theKafkaCommandsReadTheSameLayersAndTheWorkersFile() throws {
        let file = "KAFKA_BROKERS=file:1\nKAFKA_DLQ_TOPIC=file-dlq\nPHONE_RISK_URL=http://a\nKAFKA_OUTPUT_TOPIC=file-out\n"
        let settings = try KafkaSettings.load(
            flags: ["KAFKA_BROKERS": "flag:1"], environment: ["KAFKA_BROKERS": "env:1", "KAFKA_DLQ_TOPIC": "env-dlq", "KAFKA_OUTPUT_TOPIC": ""],
            file: "w.env", readFile: { _ in file })
        #expect(settings.brokers == "flag:1")
        #expect(settings.deadLetterTopic == "env-dlq")
        #expect(settings.outputTopic == "file-out")
        #expect(settings.inputTopic == "account-lifecycle-events")
        #expect(settings.kafkaProperties.isEmpty)
    }

    @Test func badPropertiesAndSharedTopicsAreReportedTogether() {
        let error = #expect(throws: SettingsError.self) {
            try KafkaSettings.load(environment: ["KAFKA_PROPERTIES": "no.such.property=1", "KAFKA_INPUT_TOPIC": "account-lifecycle-dlq"])
        }
        #expect(error?.problems.count == 2)
        #expect(error?.problems.first?.hasPrefix("KAFKA_PROPERTIES: ") == true)
        #expect(error?.problems.last == "KAFKA_INPUT_TOPIC, KAFKA_OUTPUT_TOPIC and KAFKA_DLQ_TOPIC must be three different topics")
    }
}

/// A file that a test's `readFile` does not have.
private struct UnreadableFile: Error {}
