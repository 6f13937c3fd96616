import Testing

@testable import Settings

@Suite("The settings table")
struct SettingTests {
    @Test func flagsAndKeysFollowFromTheName() {
        #expect(Setting.kafkaBrokers.flag == "kafka-brokers")
        #expect(Setting.kafkaDlqTopic.flag == "kafka-dlq-topic")
        #expect(Setting.numberScoringApiKey.flag == "number-scoring-api-key")
        #expect(Setting.kafkaBrokers.key.components == ["kafka", "brokers"])
        #expect(Setting.phoneRiskToken.fileKey.components == ["phone", "risk", "token", "file"])
        for setting in Setting.allCases {
            #expect(setting.name.allSatisfy { $0.isUppercase || $0.isNumber || $0 == "_" }, "\(setting.name)")
            #expect(setting.flag == setting.name.lowercased().replacing("_", with: "-"))
        }
        #expect(Set(Setting.allCases.map(\.flag)).count == Setting.allCases.count)
    }

    @Test func exactlyTheCredentialsAreSecretAndHaveAFileVariant() {
        let secrets = Setting.allCases.filter(\.isSecret)
        #expect(secrets == [.phoneRiskToken, .phoneRiskApiKey, .numberScoringApiKey])
        #expect(secrets.compactMap(\.fileName) == ["PHONE_RISK_TOKEN_FILE", "PHONE_RISK_API_KEY_FILE", "NUMBER_SCORING_API_KEY_FILE"])
        #expect(Setting.kafkaBrokers.fileName == nil)
    }

    @Test func namesInAFileAreTheSettingsAndTheSecretsFileVariants() {
        #expect(Setting.named("KAFKA_BROKERS")?.setting == .kafkaBrokers)
        #expect(Setting.named("KAFKA_BROKERS")?.isFile == false)
        #expect(Setting.named("PHONE_RISK_TOKEN_FILE")?.setting == .phoneRiskToken)
        #expect(Setting.named("PHONE_RISK_TOKEN_FILE")?.isFile == true)
        #expect(Setting.named("KAFKA_BROKERS_FILE") == nil)
        #expect(Setting.named("KAFKA_BROKER") == nil)
        #expect(Setting.named("kafka_brokers") == nil)
    }

    @Test func helpNamesTheVariableTheDefaultAndTheSecretsFile() {
        #expect(Setting.kafkaBrokers.help == "Bootstrap servers (KAFKA_BROKERS, default localhost:9092).")
        #expect(Setting.metricsPort.help == "Port of /metrics and /health/* (METRICS_PORT, default 9464).")
        #expect(Setting.kafkaTransactionalId.help == "This instance's transactional id (KAFKA_TRANSACTIONAL_ID, default: group id and host name).")
        #expect(Setting.phoneRiskToken.help == "Phone risk bearer token (PHONE_RISK_TOKEN; prefer the environment or PHONE_RISK_TOKEN_FILE).")
        #expect(Setting.phoneRiskApiKey.help.contains("--phone-risk-customer-id"))
        for setting in Setting.allCases {
            #expect(setting.help.contains("(\(setting.name)"), "\(setting.help)")
            #expect(setting.help.hasSuffix(")."), "\(setting.help)")
            if !setting.defaultValue.isEmpty { #expect(setting.help.contains("default \(setting.defaultValue)")) }
        }
    }

    @Test func theKafkaCommandsReadTheBrokersTopicsAndProperties() {
        #expect(Setting.kafka.map(\.name) == ["KAFKA_BROKERS", "KAFKA_INPUT_TOPIC", "KAFKA_OUTPUT_TOPIC", "KAFKA_DLQ_TOPIC", "KAFKA_PROPERTIES"])
    }
}
