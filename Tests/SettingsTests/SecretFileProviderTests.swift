import Configuration
import Testing

@testable import Settings

@Suite("Secrets from files")
struct SecretFileProviderTests {
    /// A provider over `variables` as environment variables, whose files are `files`.
    private func provider(_ variables: [String: String], files: [String: String]) -> SecretFileProvider {
        SecretFileProvider(upstream: EnvironmentVariablesProvider(environmentVariables: variables)) { path in
            guard let text = files[path] else { throw MissingFile() }
            return text
        }
    }

    private struct MissingFile: Error {}

    @Test func aSecretIsTheTrimmedTextOfTheFileItsFileVariableNames() throws {
        let secrets = provider(["PHONE_RISK_TOKEN_FILE": "/run/secrets/token"], files: ["/run/secrets/token": "  tok-123\n"])
        let result = try secrets.value(forKey: AbsoluteConfigKey(Setting.phoneRiskToken.key), type: .string)
        #expect(result.value == ConfigValue(.string("tok-123"), isSecret: true))
        #expect(ConfigReader(provider: secrets).string(forKey: Setting.phoneRiskToken.key) == "tok-123")
    }

    @Test func withoutAFileVariableThereIsNoValue() throws {
        let secrets = provider(["PHONE_RISK_TOKEN": "inline"], files: [:])
        #expect(try secrets.value(forKey: AbsoluteConfigKey(Setting.phoneRiskToken.key), type: .string).value == nil)
        #expect(try secrets.value(forKey: AbsoluteConfigKey(Setting.numberScoringApiKey.key), type: .string).value == nil)
    }

    @Test func settingsThatAreNotSecretAreNeverReadFromFiles() throws {
        let secrets = provider(["KAFKA_BROKERS_FILE": "/etc/brokers"], files: ["/etc/brokers": "kafka:9092"])
        #expect(try secrets.value(forKey: AbsoluteConfigKey(Setting.kafkaBrokers.key), type: .string).value == nil)
        #expect(try secrets.value(forKey: AbsoluteConfigKey(["unknown", "key"]), type: .string).value == nil)
    }

    @Test func anUnreadableFileIsAnErrorNamingTheFileVariableAndThePath() {
        let secrets = provider(["NUMBER_SCORING_API_KEY_FILE": "/run/secrets/missing"], files: [:])
        let error = #expect(throws: SecretFileProvider.UnreadableFile.self) {
            try secrets.value(forKey: AbsoluteConfigKey(Setting.numberScoringApiKey.key), type: .string)
        }
        #expect(error?.description == "NUMBER_SCORING_API_KEY_FILE: cannot read /run/secrets/missing")
    }
}
