import Foundation
import Settings
import Testing

/// The settings as the executable takes them: every setting a flag in `--help`, every bad one reported at once with
/// exit code 2 before anything connects, and flags over environment over `--config` file. Needs no broker.
@Suite("Setting flags")
struct SettingFlagsTests {
    /// Runs `risk-worker` with only `environment` of the settings in its environment.
    static func run(_ arguments: [String], environment extra: [String: String] = [:]) async throws -> CommandFixture.Outcome {
        let names = Set(Setting.allCases.map(\.name) + Setting.allCases.compactMap(\.fileName))
        var environment = ProcessInfo.processInfo.environment.filter { !names.contains($0.key) }
        environment.merge(extra) { _, new in new }
        return try await ChildProcess.run(try WorkerProcess.binary, arguments, environment: environment)
    }

    @Test(arguments: [["run"], ["check"]])
    func helpListsEverySetting(_ command: [String]) async throws {
        let help = try await Self.run(command + ["--help"])
        #expect(help.status == 0, "\(help.stderr)")
        for setting in Setting.allCases {
            #expect(help.stdout.contains("--\(setting.flag) "), "\(command) --help does not list --\(setting.flag)")
            #expect(help.stdout.contains(setting.name), "\(command) --help does not name \(setting.name)")
        }
        #expect(help.stdout.contains("--config "))
    }

    @Test(arguments: [["publish"], ["topics", "create"], ["dlq", "stats"], ["dlq", "show"], ["replay"]])
    func helpOfTheKafkaCommandsListsTheKafkaSettings(_ command: [String]) async throws {
        let help = try await Self.run(command + ["--help"])
        #expect(help.status == 0, "\(help.stderr)")
        for setting in Setting.allCases {
            let listed = help.stdout.contains("--\(setting.flag) ")
            #expect(listed == Setting.kafka.contains(setting), "\(command) --help and --\(setting.flag)")
        }
    }

    @Test(arguments: [["run"], ["check", "+436501234567"]])
    func everyBadSettingIsOneLineAtOnceWithExitCode2(_ command: [String]) async throws {
        let flags = [
            "--kafka-properties", "no.such.property=1", "--phone-risk-url", "not a url", "--phone-risk-api-key", "secret-api-key-789",
            "--number-scoring-url", "ftp://x", "--idempotency-store", "mysql://user:hunter2@db/x", "--delivery", "twice",
            "--metrics-port", "70000", "--max-in-flight", "zero", "--error-policy", "number-scoring:7=explode",
            "--retry-base-ms", "0", "--retry-cap-ms", "x", "--retry-attempts", "101", "--drain-timeout-ms", "3600001",
        ]
        let started = ContinuousClock.now
        let result = try await Self.run(command + flags, environment: ["KAFKA_BROKERS": "127.0.0.1:1"])
        // Generous: at the suite's start the machine is loaded (CI has taken 32 s for tests that need no time at all).
        #expect(ContinuousClock.now - started < .seconds(60), "settings are checked before anything connects")
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        let expected = [
            "KAFKA_PROPERTIES: ", "PHONE_RISK_URL: ", "NUMBER_SCORING_URL: ", "PHONE_RISK_API_KEY and PHONE_RISK_CUSTOMER_ID",
            "NUMBER_SCORING_API_KEY is required", "IDEMPOTENCY_STORE: ", "DELIVERY: ", "METRICS_PORT: ", "MAX_IN_FLIGHT: ",
            "ERROR_POLICY: ", "RETRY_BASE_MS: ", "RETRY_CAP_MS: ", "RETRY_ATTEMPTS: ", "DRAIN_TIMEOUT_MS: ",
        ]
        #expect(lines.count == expected.count, "\(result.stderr)")
        for (line, start) in zip(lines, expected) {
            #expect(line.hasPrefix("risk-worker: \(start)"), "\(line)")
        }
        #expect(!result.stderr.contains("secret-api-key-789"))
        #expect(!result.stderr.contains("hunter2"))
    }

    @Test func flagsBeatTheEnvironmentWhichBeatsTheConfigFile() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("risk-worker-\(UUID().uuidString).env")
        try "METRICS_PORT=from-file\nKAFKA_INPUT_TOPIC=same\nKAFKA_OUTPUT_TOPIC=same\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        func problems(_ arguments: [String], _ environment: [String: String] = [:]) async throws -> String {
            let result = try await Self.run(["run", "--config", file.path] + arguments, environment: environment)
            #expect(result.status == 2)
            return result.stderr
        }
        #expect(try await problems([]).contains("METRICS_PORT: 'from-file'"))
        #expect(try await problems([], ["METRICS_PORT": ""]).contains("METRICS_PORT: 'from-file'"))
        #expect(try await problems([], ["METRICS_PORT": "from-env"]).contains("METRICS_PORT: 'from-env'"))
        #expect(try await problems(["--metrics-port", "from-flag"], ["METRICS_PORT": "from-env"]).contains("METRICS_PORT: 'from-flag'"))
        #expect(try await problems(["--metrics-port=from-flag"]).contains("METRICS_PORT: 'from-flag'"))
        #expect(try await problems([]).contains("must be three different topics"))
        #expect(try await !problems(["--kafka-output-topic", "other"]).contains("must be three different topics"))
    }

    @Test func aSecretComesFromTheFileItsFileVariableNames() async throws {
        let secret = FileManager.default.temporaryDirectory.appendingPathComponent("risk-worker-\(UUID().uuidString).secret")
        try "from-a-file\n".write(to: secret, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: secret) }
        let given = try await Self.run(["run", "--metrics-port", "x"], environment: ["NUMBER_SCORING_API_KEY_FILE": secret.path])
        #expect(!given.stderr.contains("NUMBER_SCORING_API_KEY"), "\(given.stderr)")
        #expect(!given.stderr.contains("from-a-file"))
        let missing = try await Self.run(["run"], environment: ["NUMBER_SCORING_API_KEY_FILE": secret.path + ".none"])
        #expect(missing.stderr.contains("risk-worker: NUMBER_SCORING_API_KEY_FILE: cannot read \(secret.path).none\n"))
        #expect(missing.status == 2)
    }
}
