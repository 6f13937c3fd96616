import Settings
import Testing

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
        #expect(settings.brokers == "localhost:9092")
        #expect(settings.groupID == "risk-worker")
        #expect(settings.inputTopic == "account-lifecycle-events")
        #expect(settings.outputTopic == "account-lifecycle-scored")
        #expect(settings.deadLetterTopic == "account-lifecycle-dlq")
        #expect(settings.delivery == .exactlyOnce)
        #expect(settings.metricsPort == 9464)
        #expect(settings.maxInFlight == 512)
        #expect(settings.idempotencyStore == .default)
        #expect(settings.numberScoringURL == "http://127.0.0.1:8089")
        #expect(settings.phoneRiskCredentials == .token("secret-token-123"))
    }

    @Test func flagsBeatEnvironmentWhichBeatsTheFile() throws {
        let file = "KAFKA_BROKERS=file:1\nKAFKA_GROUP_ID=file-group\n# a comment\nKAFKA_INPUT_TOPIC='file-input'\n"
        let settings = try WorkerSettings.load(
            flags: ["KAFKA_BROKERS": "flag:1"],
            environment: required.merging(["KAFKA_BROKERS": "env:1", "KAFKA_GROUP_ID": "env-group"]) { $1 },
            file: "worker.env",
            readFile: { _ in file }
        )
        #expect(settings.brokers == "flag:1")
        #expect(settings.groupID == "env-group")
        #expect(settings.inputTopic == "file-input")
    }

    @Test func secretsComeFromFilesToo() throws {
        var environment = required
        environment["NUMBER_SCORING_API_KEY"] = nil
        environment["NUMBER_SCORING_API_KEY_FILE"] = "/run/secrets/ns"
        let settings = try WorkerSettings.load(environment: environment, readFile: { path in
            path == "/run/secrets/ns" ? "from-file\n" : ""
        })
        #expect(settings.numberScoringAPIKey == "from-file")
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
