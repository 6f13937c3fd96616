import Testing

@testable import Settings

@Suite("Setting sources")
struct SettingSourcesTests {
    /// Files that tests read: the settings file and secrets.
    private static let files = [
        "worker.env": "PHONE_RISK_TOKEN=file-token\nPHONE_RISK_TOKEN_FILE=/secrets/file\nKAFKA_GROUP_ID=file-group\n",
        "/secrets/flag": "flag-secret\n",
        "/secrets/env": "env-secret\n",
        "/secrets/file": "file-secret\n",
    ]

    private struct MissingFile: Error {}

    private static func read(_ path: String) throws -> String {
        guard let text = files[path] else { throw MissingFile() }
        return text
    }

    /// The value of `setting` from these layers (the file is `worker.env` with `fileText`, if given).
    private static func value(
        _ setting: Setting, flags: [String: String] = [:], environment: [String: String] = [:], fileText: String? = nil
    ) -> (value: String?, problems: [String]) {
        let text = fileText ?? ""
        var sources = SettingSources(flags: flags, environment: environment, file: fileText == nil ? nil : "worker.env") { path in
            path == "worker.env" ? text : try Self.read(path)
        }
        let value = sources.value(setting)
        return (value, sources.problems)
    }

    @Test func eachLayerWithItsSecretFilesBeatsTheNextAndTheDefaultComesLast() {
        var flags = ["PHONE_RISK_TOKEN": "flag-token", "PHONE_RISK_TOKEN_FILE": "/secrets/flag"]
        var environment = ["PHONE_RISK_TOKEN": "env-token", "PHONE_RISK_TOKEN_FILE": "/secrets/env"]
        var file = ["PHONE_RISK_TOKEN=file-token", "PHONE_RISK_TOKEN_FILE=/secrets/file"]
        func token() -> String? {
            Self.value(.phoneRiskToken, flags: flags, environment: environment, fileText: file.joined(separator: "\n")).value
        }
        #expect(token() == "flag-token")
        flags["PHONE_RISK_TOKEN"] = nil
        #expect(token() == "flag-secret")
        flags["PHONE_RISK_TOKEN_FILE"] = nil
        #expect(token() == "env-token")
        environment["PHONE_RISK_TOKEN"] = nil
        #expect(token() == "env-secret")
        environment["PHONE_RISK_TOKEN_FILE"] = nil
        #expect(token() == "file-token")
        file.removeFirst()
        #expect(token() == "file-secret")
        file.removeFirst()
        #expect(token() == nil)

        #expect(Self.value(.kafkaGroupId).value == "risk-worker")
        #expect(Self.value(.kafkaGroupId, fileText: "KAFKA_GROUP_ID=file").value == "file")
        #expect(Self.value(.kafkaGroupId, environment: ["KAFKA_GROUP_ID": "env"], fileText: "KAFKA_GROUP_ID=file").value == "env")
        #expect(Self.value(.kafkaGroupId, flags: ["KAFKA_GROUP_ID": "flag"], environment: ["KAFKA_GROUP_ID": "env"]).value == "flag")
    }

    @Test func emptyValuesCountAsUnsetInEveryLayer() {
        let empty = ["KAFKA_GROUP_ID": "", "PHONE_RISK_TOKEN": "", "PHONE_RISK_TOKEN_FILE": ""]
        let fromFile = Self.value(.kafkaGroupId, flags: empty, environment: empty, fileText: "KAFKA_GROUP_ID=file-group")
        #expect(fromFile.value == "file-group")
        #expect(Self.value(.kafkaGroupId, flags: empty, environment: empty, fileText: "KAFKA_GROUP_ID=").value == "risk-worker")
        let secret = Self.value(.phoneRiskToken, flags: empty, environment: empty, fileText: "PHONE_RISK_TOKEN_FILE=/secrets/file")
        #expect(secret.value == "file-secret")
        #expect(secret.problems.isEmpty)
    }

    @Test func anUnreadableSecretFileIsAProblemAndHidesNoLaterLayer() {
        let result = Self.value(
            .phoneRiskToken, environment: ["PHONE_RISK_TOKEN_FILE": "/secrets/none"], fileText: "PHONE_RISK_TOKEN=file-token")
        #expect(result.value == nil)
        #expect(result.problems == ["PHONE_RISK_TOKEN_FILE: cannot read /secrets/none"])
    }

    @Test func theFileFormatAndItsProblemsByLine() throws {
        let values = try SettingSources.parseFile("# comment\n\n  KAFKA_BROKERS = a:1 \nKAFKA_GROUP_ID=\"g\"\nKAFKA_INPUT_TOPIC='t'\nERROR_POLICY=a=b\n")
        #expect(values == ["KAFKA_BROKERS": "a:1", "KAFKA_GROUP_ID": "g", "KAFKA_INPUT_TOPIC": "t", "ERROR_POLICY": "a=b"])
        let error = #expect(throws: SettingsError.self) {
            try SettingSources.parseFile("KAFKA_BROKERS=a:1\nnot a setting\n=x\nKAFKA_BROKER=typo\nNUMBER_SCORING_API_KEY_FILE=/s\n")
        }
        #expect(error?.problems == ["line 2 is not NAME=value", "line 3 is not NAME=value", "line 4: unknown setting KAFKA_BROKER"])
    }
}
