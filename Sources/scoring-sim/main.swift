import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ScoringSimulator

/// `scoring-sim`: a sandbox of the phone risk score and number scoring APIs.
struct ScoringSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scoring-sim",
        abstract: "A sandbox of the phone risk score and number scoring APIs, with deterministic answers and fault injection.",
        discussion: """
            Endpoints: POST /auth, POST /phone-service/phoneRiskScore, POST /lookup/number-scoring,
            GET /_sim/stats, POST /_sim/reset, GET|POST /_sim/mode, POST /_sim/revoke-tokens,
            GET|POST|DELETE /_sim/outage, GET|POST|DELETE /_sim/allowance.
            The first line on stdout is the base URL it listens on (useful with --port 0).

            Fault injection by the last six digits of the number (msisdn):
              99990C  C=1..8  number scoring answers response code C
              99991N  N=1..9  first N calls per endpoint fail (number scoring 4, phone risk error 10019), then succeed
              99992K  phone risk: 0 error 10012, 1 status 500, 2 status 501, 3 status 599, 4 error 10019,
                      5 error 10010, 6 error 10020, 7 error 11001, 8 error 12001, 9 partial success (301)
              99993H  both endpoints: 1 HTTP 429 (Retry-After: 1), 2 HTTP 500, 3 HTTP 503 (Retry-After: 2),
                      4 HTTP 502 HTML page, 5 HTTP 200 truncated JSON, 6 HTTP 403
              999940  number scoring leaves the record out of its response
            Country codes outside the sandbox's table: number scoring 6, phone risk status 500 with error 11001.
            Risk bands (the sandbox's choice): 0-300 low/allow, 301-600 medium-low/allow,
            601-800 medium-high/flag, 801-1000 high/block.
            POST /_sim/mode {"numberScoring": 3} or {"phoneRisk": 501} forces a code on every request; {} clears.
            POST /_sim/outage {"kind": "unavailable"|"drop"|"hang", "provider"?: "phone-risk"|"number-scoring",
              "seconds"?: N, "retryAfter"?: N} starts an outage; DELETE /_sim/outage ends it.
            POST /_sim/allowance {"phoneRiskPerSecond": N, "numberScoringPerSecond": N}: 0 or absent is unlimited.
            See docs/scoring-sim.md.
            """)

    @Option(help: "Address to bind.")
    var host = "127.0.0.1"

    @Option(help: "Port to bind; 0 picks a free port.")
    var port = 8089

    @Option(help: "Bearer token always accepted by the phone risk endpoint (tokens issued by /auth are accepted too).")
    var token = "sandbox-token"

    @Option(name: .customLong("api-key"), help: "API key: X-API-KEY of number scoring and Api-Key of /auth.")
    var apiKey = "sandbox-key"

    @Option(name: .customLong("latency-ms"), help: "Fixed delay added to every scoring answer, in milliseconds.")
    var latencyMs = 0

    @Option(name: .customLong("jitter-ms"), help: "Extra random delay, uniform in 0...jitter, in milliseconds.")
    var jitterMs = 0

    @Option(name: .customLong("error-rate"), help: "Probability (0...1) that a scoring request fails with HTTP 500.")
    var errorRate = 0.0

    @Option(name: .customLong("token-lifetime"), help: "expires_in of tokens issued by /auth, in seconds.")
    var tokenLifetime = 3600

    @Option(help: "Start with an outage: unavailable (HTTP 503), drop (connections closed unanswered) or hang (held up to 60 s, then 503).")
    var outage: String?

    @Option(name: .customLong("outage-provider"), help: "The provider --outage takes down: phone-risk or number-scoring (default: both).")
    var outageProvider: String?

    @Option(name: .customLong("outage-seconds"), help: "--outage clears itself after this many seconds (default: it lasts until cleared).")
    var outageSeconds: Double?

    @Option(name: .customLong("outage-retry-after"), help: "Retry-After of --outage's 503 answers, in seconds (default: seconds left, or 5).")
    var outageRetryAfter: Int?

    @Option(name: .customLong("phone-risk-allowance"), help: "Phone risk requests allowed a second; beyond it HTTP 429 with Retry-After (0: unlimited).")
    var phoneRiskAllowance = 0

    @Option(name: .customLong("number-scoring-allowance"), help: "Number scoring numbers allowed a second; beyond it response 4 per number (0: unlimited).")
    var numberScoringAllowance = 0

    @Option(name: .customLong("log-level"), help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        guard latencyMs >= 0, jitterMs >= 0 else { throw ValidationError("--latency-ms and --jitter-ms must be >= 0") }
        guard (0...1).contains(errorRate) else { throw ValidationError("--error-rate must be between 0 and 1") }
        guard tokenLifetime > 0 else { throw ValidationError("--token-lifetime must be > 0") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        if let outage, SandboxOutage.Kind(rawValue: outage) == nil {
            throw ValidationError("--outage must be unavailable, drop or hang")
        }
        if outage == nil, outageProvider != nil || outageSeconds != nil || outageRetryAfter != nil {
            throw ValidationError("--outage-provider, --outage-seconds and --outage-retry-after need --outage")
        }
        if let outageProvider, SandboxProvider(rawValue: outageProvider) == nil {
            throw ValidationError("--outage-provider must be phone-risk or number-scoring")
        }
        if let outageSeconds, !(outageSeconds > 0 && outageSeconds <= 86_400) {
            throw ValidationError("--outage-seconds must be above 0 and at most 86400")
        }
        if let outageRetryAfter, !(0...86_400).contains(outageRetryAfter) {
            throw ValidationError("--outage-retry-after must be 0...86400")
        }
        guard (0...1_000_000).contains(phoneRiskAllowance), (0...1_000_000).contains(numberScoringAllowance) else {
            throw ValidationError("--phone-risk-allowance and --number-scoring-allowance must be 0...1000000")
        }
    }

    /// The outage given by the flags, if any.
    var startOutage: SandboxOutage? {
        guard let kind = outage.flatMap(SandboxOutage.Kind.init(rawValue:)) else { return nil }
        return SandboxOutage(
            kind, provider: outageProvider.flatMap(SandboxProvider.init(rawValue:)),
            duration: outageSeconds.map { .milliseconds(Int64(($0 * 1000).rounded(.up))) }, retryAfter: outageRetryAfter)
    }

    /// Runs the sandbox until SIGINT or SIGTERM.
    func serve() async throws {
        var logger = Logger(label: "scoring-sim")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let sandbox = ScoringSandbox(
            configuration: .init(
                host: host, port: port, token: token, apiKey: apiKey,
                latency: .milliseconds(latencyMs), jitter: .milliseconds(jitterMs),
                errorRate: errorRate, tokenLifetimeSeconds: tokenLifetime, outage: startOutage,
                allowance: SandboxAllowance(
                    phoneRiskPerSecond: phoneRiskAllowance, numberScoringPerSecond: numberScoringAllowance)))
        let shownHost = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host
        let application = sandbox.makeApplication(logger: logger) { boundPort in
            FileHandle.standardOutput.write(Data("http://\(shownHost):\(boundPort)\n".utf8))
        }
        try await application.runService()
    }
}

let options = ScoringSim.parseOrExit()
do {
    try await options.serve()
} catch {
    ScoringSim.exit(withError: error)
}
