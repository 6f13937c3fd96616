import Configuration
import Foundation
import Kafka
import Synchronization

/// Where settings are read from: a `ConfigReader` over the flags, the environment and a `KEY=VALUE` file, in that
/// order, each followed by the secrets in the files its `<NAME>_FILE` settings name, and the defaults last. Empty
/// values count as unset. Collects every problem met, one line each naming the setting, so that a loader can report
/// them all at once.
struct SettingSources {
    private let reader: ConfigReader
    private let failures = ProviderFailures()
    /// The problems met so far.
    private(set) var problems: [String] = []

    /// Sources from `flags` and `environment` (by setting name) and the file at `file` (its problems are recorded).
    init(flags: [String: String], environment: [String: String], file: String?, readFile: @escaping @Sendable (String) throws -> String) {
        var fileValues: [String: String] = [:]
        var problems: [String] = []
        if let file {
            do {
                fileValues = try Self.parseFile(try readFile(file))
            } catch let error as SettingsError {
                problems.append(contentsOf: error.problems.map { "config file \(file): \($0)" })
            } catch {
                problems.append("config file \(file): cannot be read (\(error.localizedDescription))")
            }
        }
        let secrets = SecretsSpecifier<String, String>.specific(Set(Setting.allCases.filter(\.isSecret).map(\.name)))
        let layers: [any ConfigProvider] = [
            InMemoryProvider(name: "flags", values: Self.flagValues(flags)),
            EnvironmentVariablesProvider(environmentVariables: environment.filter { !$0.value.isEmpty }, secretsSpecifier: secrets),
            EnvironmentVariablesProvider(environmentVariables: fileValues.filter { !$0.value.isEmpty }, secretsSpecifier: secrets),
        ]
        let defaults = Setting.allCases.filter { !$0.defaultValue.isEmpty }.map { setting in
            (AbsoluteConfigKey(setting.key), ConfigValue(.string(setting.defaultValue), isSecret: false))
        }
        reader = ConfigReader(
            providers: layers.flatMap { [$0, SecretFileProvider(upstream: $0, readFile: readFile)] }
                + [InMemoryProvider(name: "defaults", values: Dictionary(uniqueKeysWithValues: defaults))],
            accessReporter: failures)
        self.problems = problems
    }

    /// Records a problem.
    mutating func problem(_ line: String) {
        problems.append(line)
    }

    /// The setting's first non-empty value, else its default; nil if it has neither.
    mutating func value(_ setting: Setting) -> String? {
        let value = reader.string(forKey: setting.key, isSecret: setting.isSecret)
        problems.append(contentsOf: failures.take())
        return value
    }

    /// The Kafka settings every command shares: brokers, the three topics, extra properties checked by librdkafka.
    mutating func kafka() -> KafkaSettings {
        var settings = KafkaSettings(
            brokers: value(.kafkaBrokers) ?? "",
            inputTopic: value(.kafkaInputTopic) ?? "",
            outputTopic: value(.kafkaOutputTopic) ?? "",
            deadLetterTopic: value(.kafkaDlqTopic) ?? "")
        if let text = value(.kafkaProperties) {
            do {
                settings.kafkaProperties = try KafkaConfiguration.parseProperties(text)
                try settings.configuration.validate()
            } catch {
                problem("\(Setting.kafkaProperties.name): \((error as? KafkaError)?.message ?? "\(error)")")
            }
        }
        let topics = [settings.inputTopic, settings.outputTopic, settings.deadLetterTopic]
        if Set(topics).count != topics.count {
            let names = [Setting.kafkaInputTopic, .kafkaOutputTopic, .kafkaDlqTopic].map(\.name)
            problem("\(names[0]), \(names[1]) and \(names[2]) must be three different topics")
        }
        return settings
    }

    /// The non-empty flags, by setting name (a secret's `<NAME>_FILE` too), under their configuration keys.
    private static func flagValues(_ flags: [String: String]) -> [AbsoluteConfigKey: ConfigValue] {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        for (name, value) in flags where !value.isEmpty {
            guard let named = Setting.named(name) else { continue }
            let key = AbsoluteConfigKey(named.isFile ? named.setting.fileKey : named.setting.key)
            values[key] = ConfigValue(.string(value), isSecret: named.setting.isSecret && !named.isFile)
        }
        return values
    }

    /// Parses `KEY=VALUE` lines; blank lines and `#` comments are skipped, values may be quoted, unknown names and
    /// lines that are not `NAME=value` are problems (by line number).
    ///
    /// Hand-written: swift-configuration's `.env` reading skips malformed lines silently, keeps quotes, and has no
    /// list of the names it read, so it could neither strip quotes nor report typos.
    static func parseFile(_ text: String) throws(SettingsError) -> [String: String] {
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
            if Setting.named(name) == nil { problems.append("line \(number + 1): unknown setting \(name)") }
            values[name] = value
        }
        if !problems.isEmpty { throw SettingsError(problems: problems) }
        return values
    }
}

/// The errors providers threw while settings were read (a `<NAME>_FILE` that cannot be read), one line each.
private final class ProviderFailures: AccessReporter {
    private let lines = Mutex<[String]>([])

    func report(_ event: AccessEvent) {
        let failures = event.providerResults.compactMap { result -> String? in
            if case .failure(let error) = result.result { "\(error)" } else { nil }
        }
        guard !failures.isEmpty else { return }
        lines.withLock { $0.append(contentsOf: failures) }
    }

    /// The lines reported since the last call.
    func take() -> [String] {
        lines.withLock { lines in
            defer { lines = [] }
            return lines
        }
    }
}
