import ArgumentParser
import Foundation
import Settings

/// The worker's settings as flags, one per ``Setting`` (`--kafka-brokers` is `KAFKA_BROKERS`), and the optional
/// settings file; flags win over the environment, which wins over the file.
struct SettingFlags: ParsableArguments {
    @Option(help: "A KEY=VALUE settings file (flags and environment win over it).")
    var config: String?

    @Option(setting: .kafkaBrokers) var kafkaBrokers: SettingFlag?
    @Option(setting: .kafkaGroupId) var kafkaGroupId: SettingFlag?
    @Option(setting: .kafkaInputTopic) var kafkaInputTopic: SettingFlag?
    @Option(setting: .kafkaOutputTopic) var kafkaOutputTopic: SettingFlag?
    @Option(setting: .kafkaDlqTopic) var kafkaDlqTopic: SettingFlag?
    @Option(setting: .kafkaProperties) var kafkaProperties: SettingFlag?
    @Option(setting: .kafkaGroupInstanceId) var kafkaGroupInstanceId: SettingFlag?
    @Option(setting: .kafkaTransactionalId) var kafkaTransactionalId: SettingFlag?
    @Option(setting: .phoneRiskUrl) var phoneRiskUrl: SettingFlag?
    @Option(setting: .phoneRiskToken) var phoneRiskToken: SettingFlag?
    @Option(setting: .phoneRiskApiKey) var phoneRiskApiKey: SettingFlag?
    @Option(setting: .phoneRiskCustomerId) var phoneRiskCustomerId: SettingFlag?
    @Option(setting: .numberScoringUrl) var numberScoringUrl: SettingFlag?
    @Option(setting: .numberScoringApiKey) var numberScoringApiKey: SettingFlag?
    @Option(setting: .idempotencyStore) var idempotencyStore: SettingFlag?
    @Option(setting: .delivery) var delivery: SettingFlag?
    @Option(setting: .metricsPort) var metricsPort: SettingFlag?
    @Option(setting: .maxInFlight) var maxInFlight: SettingFlag?
    @Option(setting: .errorPolicy) var errorPolicy: SettingFlag?
    @Option(setting: .retryBaseMs) var retryBaseMs: SettingFlag?
    @Option(setting: .retryCapMs) var retryCapMs: SettingFlag?
    @Option(setting: .retryAttempts) var retryAttempts: SettingFlag?
    @Option(setting: .drainTimeoutMs) var drainTimeoutMs: SettingFlag?
    @Option(setting: .retryMaxElapsed) var retryMaxElapsed: SettingFlag?
    @Option(setting: .breakerFailures) var breakerFailures: SettingFlag?
    @Option(setting: .phoneRiskMaxRps) var phoneRiskMaxRps: SettingFlag?
    @Option(setting: .numberScoringMaxRps) var numberScoringMaxRps: SettingFlag?
    @Option(setting: .providerTimeoutMs) var providerTimeoutMs: SettingFlag?
    @Option(setting: .providerCaFile) var providerCaFile: SettingFlag?
    @Option(setting: .httpsProxy) var httpsProxy: SettingFlag?
    @Option(setting: .noProxy) var noProxy: SettingFlag?
    @Option(setting: .claimLease) var claimLease: SettingFlag?
    @Option(setting: .numberScoringCacheTtl) var numberScoringCacheTtl: SettingFlag?
    @Option(setting: .numberScoringLinger) var numberScoringLinger: SettingFlag?

    /// The settings from these flags, the environment and the file; bad ones end the process with code 2.
    func load() throws -> WorkerSettings {
        try exitOnProblems { () throws(SettingsError) in
            try WorkerSettings.load(flags: settingValues, environment: ProcessInfo.processInfo.environment, file: config)
        }
    }
}

/// A setting's value as given on the command line, with the setting it is for.
struct SettingFlag: Sendable {
    /// The setting the flag is for.
    let setting: Setting
    /// The text given.
    let value: String
}

extension Option where Value == SettingFlag? {
    /// The flag of `setting`: its name, help and value placeholder as ``Setting`` declares them.
    init(setting: Setting) {
        self.init(
            name: .customLong(setting.flag),
            help: ArgumentHelp(setting.help, valueName: setting.valueName),
            transform: { SettingFlag(setting: setting, value: $0) })
    }
}

extension ParsableArguments {
    /// The setting flags given, by setting name: the values of every `@Option(setting:)` property of this type.
    var settingValues: [String: String] {
        var values: [String: String] = [:]
        for child in Mirror(reflecting: self).children {
            if let flag = (child.value as? Option<SettingFlag?>)?.wrappedValue { values[flag.setting.name] = flag.value }
        }
        return values
    }
}

/// The result of a settings loader; bad settings print one line each and end the process with code 2.
func exitOnProblems<Loaded>(_ load: () throws(SettingsError) -> Loaded) throws -> Loaded {
    do {
        return try load()
    } catch {
        for problem in error.problems.dropLast() { _ = usageError(problem) }
        throw usageError(error.problems.last ?? "invalid settings")
    }
}
