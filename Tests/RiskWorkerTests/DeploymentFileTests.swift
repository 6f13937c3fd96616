import Foundation
import RiskPipeline
import Settings
import Testing

/// Checks docker/ without a Docker engine: the compose file, .env.example, Prometheus and Grafana configuration and
/// the Dockerfile agree with the settings and metrics the worker really has. YAML is read by the bootstrap venv's
/// Python (PyYAML).
@Suite("Deployment files")
struct DeploymentFileTests {
    /// The package root, from this file's path (Tests/RiskWorkerTests/DeploymentFileTests.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let docker = root.appendingPathComponent("docker")

    /// The metrics the worker exports; dashboards may use only these (histogram series with their suffixes).
    static let metrics: Set<String> = [
        "risk_records_consumed_total", "risk_events_scored_total", "risk_dead_letters_total", "risk_duplicates_total",
        "risk_provider_retries_total", "risk_provider_request_duration_seconds", "risk_in_flight", "risk_paused",
        "risk_provider_state", "risk_provider_rate_limit", "risk_provider_throttled_total",
        "risk_consumer_lag", "risk_transactions_total", "risk_claim_waits_total", "risk_claim_takeovers_total",
        "risk_claims_lost_total", "risk_claims_settled_total", "risk_number_scoring_cache_total", "risk_emit_cycle_duration_seconds",
        "risk_event_stage_duration_seconds",
    ]

    /// Every name the worker accepts in its environment: the settings and the `_FILE` variants of the secrets.
    static let knownNames = Set(Setting.allCases.map(\.name)).union(Setting.allCases.compactMap(\.fileName))

    // MARK: - compose.yaml and .env.example

    @Test func theWorkerServiceSetsOnlySettingsTheWorkerKnows() throws {
        let environment = try Self.workerEnvironment()
        #expect(!environment.isEmpty)
        for name in environment.keys.sorted() {
            #expect(Self.knownNames.contains(name), "the worker service sets \(name), which the worker does not read")
        }
        for name in ["KAFKA_TRANSACTIONAL_ID", "KAFKA_GROUP_INSTANCE_ID"] {
            #expect(environment[name] == nil, "\(name) would be the same for both replicas")
        }
    }

    @Test func envExampleDocumentsEverySettingAndSetsOnlyKnownOnes() throws {
        let example = try Self.envExample()
        for (name, _) in example.active {
            #expect(Self.knownNames.contains(name), ".env.example sets \(name), which the worker does not read")
        }
        let documented = Set(example.active.map(\.name)).union(example.commented)
        for name in Setting.allCases.map(\.name) {
            #expect(documented.contains(name), ".env.example does not mention \(name)")
        }
        for name in Setting.allCases.compactMap(\.fileName) {
            #expect(example.text.contains(name), ".env.example does not mention \(name)")
        }
        #expect(Set(example.active.map(\.name)).count == example.active.count, "a name is set twice")
    }

    @Test func composeDefaultsAreTheValuesOfEnvExample() throws {
        let environment = try Self.workerEnvironment()
        let example = try Self.envExample()
        let exampleValues = Dictionary(example.active.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        for (name, value) in exampleValues.sorted(by: { $0.key < $1.key }) {
            guard let composed = environment[name] else {
                Issue.record(".env.example sets \(name), but compose.yaml does not pass it on")
                continue
            }
            guard let substitution = Self.substitution(composed) else {
                Issue.record("\(name): '\(composed)' is not ${\(name):-default}")
                continue
            }
            #expect(substitution.name == name, "\(name) is filled from ${\(substitution.name)}")
            #expect(substitution.fallback == value, "\(name): compose default '\(substitution.fallback)', .env.example '\(value)'")
        }
        for name in environment.keys where exampleValues[name] == nil {
            Issue.record("compose.yaml passes \(name), which .env.example does not set")
        }
    }

    @Test func theWorkerHasEveryRequiredSettingAndTheyAreValid() throws {
        let compose = try Self.compose()
        let environment = try Self.resolvedWorkerEnvironment()
        for name in ["KAFKA_BROKERS", "PHONE_RISK_URL", "NUMBER_SCORING_URL", "IDEMPOTENCY_STORE"] {
            #expect(environment[name]?.isEmpty == false, "\(name) is required")
        }
        func set(_ name: String) -> Bool { environment[name]?.isEmpty == false || environment[name + "_FILE"]?.isEmpty == false }
        #expect(set("PHONE_RISK_TOKEN") || (set("PHONE_RISK_API_KEY") && environment["PHONE_RISK_CUSTOMER_ID"]?.isEmpty == false),
                "a phone-risk credential is required")
        #expect(set("NUMBER_SCORING_API_KEY"), "NUMBER_SCORING_API_KEY is required")

        // The worker's own loader accepts the environment as it is (secrets given inline, so no _FILE is read).
        let settings: WorkerSettings
        do {
            settings = try WorkerSettings.load(environment: environment)
        } catch {
            Issue.record("the worker rejects the compose environment: \(error.problems)")
            return
        }
        guard case .postgres(let store) = settings.idempotencyStore else {
            Issue.record("the replicas must share a PostgreSQL store, not \(settings.idempotencyStore)")
            return
        }
        // The addresses are compose services, and the store's credentials are the postgres service's.
        let services = try Self.dictionary(compose["services"], "services")
        #expect(store.host == "postgres" && services["postgres"] != nil)
        let postgres = try Self.environment(of: "postgres", in: compose)
        #expect(postgres["POSTGRES_USER"] == store.username)
        #expect(postgres["POSTGRES_PASSWORD"] == store.password)
        #expect(postgres["POSTGRES_DB"] == store.database)
        #expect(settings.worker.brokers.split(separator: ",").allSatisfy { $0.hasPrefix("kafka:") }, "\(settings.worker.brokers)")
        for url in [settings.providers.phoneRiskURL, settings.providers.numberScoringURL] {
            #expect(URL(string: url)?.host == "scoring-sim", "\(url)")
        }
        #expect(services["kafka"] != nil && services["scoring-sim"] != nil)
    }

    @Test func theWorkerRunsTwoReplicasWithoutFixedHostPorts() throws {
        let worker = try Self.service("worker")
        let deploy = try Self.dictionary(worker["deploy"], "worker.deploy")
        #expect((deploy["replicas"] as? NSNumber)?.intValue == 2)
        #expect(worker["ports"] == nil, "two replicas cannot bind one host port")
        #expect(worker["container_name"] == nil && worker["hostname"] == nil, "both would be the same for both replicas")
        let dependencies = try Self.dictionary(worker["depends_on"], "worker.depends_on")
        #expect(Set(dependencies.keys).isSuperset(of: ["topics", "postgres", "scoring-sim"]))
    }

    @Test func theOtherServicesAreThereAndWiredUp() throws {
        let compose = try Self.compose()
        let services = try Self.dictionary(compose["services"], "services")
        #expect(Set(services.keys) == ["kafka", "topics", "scoring-sim", "postgres", "worker", "prometheus", "grafana"])

        let kafka = try Self.environment(of: "kafka", in: compose)
        #expect(kafka["KAFKA_PROCESS_ROLES"] == "broker,controller", "KRaft, one node")
        #expect(kafka["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "1")

        let topics = try Self.service("topics")
        let script = (topics["command"] as? [Any])?.map { "\($0)" }.joined(separator: " ") ?? "\(topics["command"] ?? "")"
        for expected in ["account-lifecycle-events}:12", "account-lifecycle-scored", "account-lifecycle-dlq"] {
            #expect(script.contains(expected), "the topics service creates \(expected)")
        }

        let simulator = try Self.service("scoring-sim")
        #expect(simulator["entrypoint"] as? [String] == ["scoring-sim"])
        let simulatorArguments = simulator["command"] as? [String] ?? []
        #expect(simulatorArguments.contains("--host=0.0.0.0"))
        #expect(simulatorArguments.contains("--port=8089"))

        let postgres = try Self.service("postgres")
        #expect((postgres["image"] as? String)?.hasPrefix("postgres:16") == true)
        #expect(postgres["healthcheck"] != nil)
    }

    // MARK: - Prometheus and Grafana

    @Test func prometheusScrapesEveryWorkerOnTheMetricsPort() throws {
        let port = try #require(Self.resolvedWorkerEnvironment()["METRICS_PORT"].flatMap { Int($0) })
        let prometheus = try Self.dictionary(Self.yaml(["docker/prometheus.yml"])["docker/prometheus.yml"], "prometheus.yml")
        let jobs = try #require(prometheus["scrape_configs"] as? [[String: Any]])
        let job = try #require(jobs.first { $0["job_name"] as? String == "risk-worker" }, "a risk-worker scrape job")
        #expect((job["metrics_path"] as? String ?? "/metrics") == "/metrics")
        var targets: [(host: String, port: Int)] = []
        for discovery in job["dns_sd_configs"] as? [[String: Any]] ?? [] {
            for name in discovery["names"] as? [String] ?? [] {
                targets.append((name, (discovery["port"] as? NSNumber)?.intValue ?? -1))
            }
        }
        for config in job["static_configs"] as? [[String: Any]] ?? [] {
            for target in config["targets"] as? [String] ?? [] {
                let parts = target.split(separator: ":")
                targets.append((String(parts[0]), parts.count == 2 ? Int(parts[1]) ?? -1 : -1))
            }
        }
        #expect(!targets.isEmpty)
        for target in targets {
            #expect(target.host == "worker" || target.host == "tasks.worker", "scrapes \(target.host), not the workers")
            #expect(target.port == port, "scrapes port \(target.port), the workers serve METRICS_PORT \(port)")
        }
        let volumes = try Self.service("prometheus")["volumes"] as? [String] ?? []
        #expect(volumes.contains { $0.hasPrefix("./prometheus.yml:/etc/prometheus/prometheus.yml") })
    }

    @Test func theDashboardParsesAndUsesOnlyExportedMetrics() throws {
        let data = try Data(contentsOf: Self.docker.appendingPathComponent("grafana/dashboards/risk-worker.json"))
        let dashboard = try Self.dictionary(try JSONSerialization.jsonObject(with: data), "dashboard")
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        var expressions: [String] = []
        var datasourceUIDs: Set<String> = []
        Self.walk(dashboard) { key, value in
            if key == "expr", let text = value as? String { expressions.append(text) }
            if key == "datasource", let source = value as? [String: Any], let uid = source["uid"] as? String { datasourceUIDs.insert(uid) }
        }
        #expect(panels.count >= 8)
        #expect(!expressions.isEmpty)
        var used: Set<String> = []
        for expression in expressions {
            for name in Self.metricNames(in: expression) {
                let base = ["_bucket", "_sum", "_count"].reduce(name) { current, suffix in
                    current.hasSuffix(suffix) && Self.metrics.contains(String(current.dropLast(suffix.count)))
                        ? String(current.dropLast(suffix.count)) : current
                }
                #expect(Self.metrics.contains(base), "the dashboard queries \(name), which the worker does not export: \(expression)")
                used.insert(base)
            }
        }
        #expect(used == Self.metrics, "metrics without a panel: \(Self.metrics.subtracting(used).sorted())")

        let provisioning = try Self.yaml([
            "docker/grafana/provisioning/datasources/prometheus.yaml", "docker/grafana/provisioning/dashboards/dashboards.yaml",
        ])
        let datasources = try Self.dictionary(provisioning["docker/grafana/provisioning/datasources/prometheus.yaml"], "datasources")
        let source = try #require((datasources["datasources"] as? [[String: Any]])?.first)
        #expect(source["type"] as? String == "prometheus")
        #expect(source["url"] as? String == "http://prometheus:9090")
        #expect(datasourceUIDs == [source["uid"] as? String ?? "?"], "panels use the provisioned datasource's uid")
        let dashboards = try Self.dictionary(provisioning["docker/grafana/provisioning/dashboards/dashboards.yaml"], "dashboards")
        let provider = try #require((dashboards["providers"] as? [[String: Any]])?.first)
        let path = try #require((provider["options"] as? [String: Any])?["path"] as? String)
        let grafanaVolumes = try Self.service("grafana")["volumes"] as? [String] ?? []
        #expect(grafanaVolumes.contains { $0.hasPrefix("./grafana/dashboards:\(path)") }, "the dashboards folder is mounted at \(path)")
        #expect(grafanaVolumes.contains { $0.hasPrefix("./grafana/provisioning:/etc/grafana/provisioning") })
    }

    @Test func metricNamesAreFoundInPromQL() {
        let expression = #"histogram_quantile(0.99, sum by (le, provider) (rate(risk_a_bucket{provider="x"}[$__rate_interval])))"#
            + #" / on (instance) group_left max without (code) (up offset 5m) and bool risk_b"#
        #expect(Self.metricNames(in: expression) == ["risk_a_bucket", "up", "risk_b"])
    }

    // MARK: - Dockerfile

    @Test func theRuntimeImageRunsRiskWorkerAsAnUnprivilegedUser() throws {
        let text = try String(contentsOf: Self.docker.appendingPathComponent("Dockerfile"), encoding: .utf8)
        // Instructions with their continuation lines joined, comments left out.
        var instructions: [String] = []
        var pending = ""
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if pending.isEmpty && (line.isEmpty || line.hasPrefix("#")) { continue }
            if line.hasSuffix("\\") {
                pending += line.dropLast() + " "
            } else {
                instructions.append(pending + line)
                pending = ""
            }
        }
        func keyword(_ instruction: String) -> String { instruction.prefix { !$0.isWhitespace }.uppercased() }
        func argument(_ instruction: String) -> String {
            instruction.drop { !$0.isWhitespace }.trimmingCharacters(in: .whitespaces)
        }
        let stages = instructions.indices.filter { keyword(instructions[$0]) == "FROM" }
        #expect(stages.count >= 2, "a multi-stage build")
        let build = instructions[(stages.first ?? 0)..<(stages.last ?? 0)].joined(separator: "\n")
        #expect(build.contains("--static-swift-stdlib"))
        #expect(build.contains("--product risk-worker") && build.contains("--product scoring-sim"))
        #expect(build.contains("librdkafka-dev"))

        let runtime = Array(instructions[(stages.last ?? 0)...])
        #expect(argument(runtime[0]).contains("ubuntu:24.04") || text.contains("RUNTIME_IMAGE=ubuntu:24.04"))
        let user = try #require(runtime.last { keyword($0) == "USER" }.map(argument), "the runtime stage sets USER")
        let name = String(user.prefix { $0 != ":" })
        #expect(!["root", "0", ""].contains(name), "the runtime stage runs as \(user)")
        let entrypoint = try #require(runtime.last { keyword($0) == "ENTRYPOINT" }.map(argument))
        let command = try #require(runtime.last { keyword($0) == "CMD" }.map(argument))
        #expect(try JSONSerialization.jsonObject(with: Data(entrypoint.utf8)) as? [String] == ["risk-worker"])
        #expect(try JSONSerialization.jsonObject(with: Data(command.utf8)) as? [String] == ["run"])
        #expect(runtime.contains { $0.contains("librdkafka1") })
        #expect(runtime.contains { keyword($0) == "COPY" && $0.contains("--from=build") && $0.contains("scoring-sim") })

        let ignored = try String(contentsOf: Self.root.appendingPathComponent(".dockerignore"), encoding: .utf8)
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        for pattern in [".build*", ".tools", ".git"] {
            #expect(ignored.contains(pattern), ".dockerignore leaves out \(pattern)")
        }
    }

    // MARK: - Reading the files

    /// The parsed YAML files (paths relative to the root), read by the venv's Python with PyYAML.
    static func yaml(_ paths: [String]) throws -> [String: Any] {
        let script = """
            import json, sys, yaml
            print(json.dumps({path: yaml.safe_load(open(path, encoding="utf-8")) for path in sys.argv[1:]}))
            """
        let (status, data, errorText) = try VenvPython.run(script, paths)
        guard status == 0 else {
            throw DeploymentFileError("reading \(paths) with the venv's Python failed (is PyYAML installed? run scripts/bootstrap):\n\(errorText)")
        }
        return try dictionary(try JSONSerialization.jsonObject(with: data), "the YAML files")
    }

    static func compose() throws -> [String: Any] {
        try dictionary(yaml(["docker/compose.yaml"])["docker/compose.yaml"], "compose.yaml")
    }

    static func service(_ name: String) throws -> [String: Any] {
        try dictionary(dictionary(compose()["services"], "services")[name], "service \(name)")
    }

    /// A service's environment as text, from either compose form (a mapping or a list of NAME=value).
    static func environment(of service: String, in compose: [String: Any]) throws -> [String: String] {
        let definition = try dictionary(dictionary(compose["services"], "services")[service], "service \(service)")
        if let list = definition["environment"] as? [String] {
            var result: [String: String] = [:]
            for item in list {
                let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                result[String(parts[0])] = parts.count == 2 ? String(parts[1]) : ""
            }
            return result
        }
        let mapping = definition["environment"] as? [String: Any] ?? [:]
        return mapping.mapValues { value in value is NSNull ? "" : "\(value)" }
    }

    /// The worker service's environment as written in compose.yaml.
    static func workerEnvironment() throws -> [String: String] {
        try environment(of: "worker", in: compose())
    }

    /// The worker's environment as compose gives it with docker/.env copied from .env.example.
    static func resolvedWorkerEnvironment() throws -> [String: String] {
        let values = Dictionary(try envExample().active.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        var result: [String: String] = [:]
        for (name, text) in try workerEnvironment() {
            if let substitution = substitution(text) {
                let given = values[substitution.name]
                result[name] = substitution.emptyIsUnset
                    ? (given?.isEmpty == false ? given : nil) ?? substitution.fallback
                    : given ?? substitution.fallback
            } else {
                result[name] = text
            }
        }
        return result
    }

    /// `${NAME:-fallback}` (an empty value is replaced) or `${NAME-fallback}` (only an unset one), or nil.
    static func substitution(_ text: String) -> (name: String, fallback: String, emptyIsUnset: Bool)? {
        guard let match = text.wholeMatch(of: #/\$\{([A-Z_][A-Z0-9_]*)(:?)-([^}]*)\}/#) else { return nil }
        return (String(match.output.1), String(match.output.3), match.output.2 == ":")
    }

    /// .env.example: its text, the NAME=value lines, and the setting names that appear only commented out (`# NAME=`).
    static func envExample() throws -> (text: String, active: [(name: String, value: String)], commented: Set<String>) {
        let text = try String(contentsOf: docker.appendingPathComponent(".env.example"), encoding: .utf8)
        var active: [(name: String, value: String)] = []
        var commented: Set<String> = []
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#") {
                let body = line.drop { $0 == "#" || $0 == " " }
                if let match = body.prefixMatch(of: #/([A-Z_][A-Z0-9_]*)=/#) { commented.insert(String(match.output.1)) }
                continue
            }
            guard !line.isEmpty else { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw DeploymentFileError(".env.example: '\(line)' is not NAME=value")
            }
            active.append((String(line[..<equals]), String(line[line.index(after: equals)...])))
        }
        return (text, active, commented)
    }

    static func dictionary(_ value: Any?, _ what: String) throws -> [String: Any] {
        guard let dictionary = value as? [String: Any] else { throw DeploymentFileError("\(what) is not a mapping") }
        return dictionary
    }

    /// The metric names a PromQL expression reads: identifiers that are not functions, aggregations, keywords, label
    /// names (in `{…}` matchers or `by (…)`-style clauses) or Grafana variables.
    static func metricNames(in expression: String) -> [String] {
        var text = expression
        text = text.replacing(#/"(?:[^"\\]|\\.)*"/#, with: "")  // strings, e.g. label values
        text = text.replacing(#/\{[^}]*\}/#, with: " ")  // label matchers
        text = text.replacing(#/\[[^\]]*\]/#, with: " ")  // range and subquery durations
        text = text.replacing(#/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/#, with: " ")
        text = text.replacing(#/\$\w+/#, with: " ")  // Grafana variables such as $__rate_interval
        text = text.replacing(#/\b\d[\w.]*/#, with: " ")  // numbers and durations (0.99, 5m, 1e3)
        let keywords: Set<String> = [
            "and", "or", "unless", "bool", "offset", "inf", "nan", "group_left", "group_right", "by", "without", "on", "ignoring",
        ]
        return text.matches(of: #/([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/#).compactMap { match in
            let name = String(match.output.1)
            return match.output.2 == nil && !keywords.contains(name.lowercased()) ? name : nil
        }
    }

    /// Calls `visit` with every key and value of nested JSON objects and arrays.
    static func walk(_ value: Any, _ visit: (String, Any) -> Void) {
        if let object = value as? [String: Any] {
            for (key, member) in object {
                visit(key, member)
                walk(member, visit)
            }
        } else if let array = value as? [Any] {
            for element in array { walk(element, visit) }
        }
    }
}

/// A deployment file that cannot be read or has the wrong shape.
struct DeploymentFileError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
