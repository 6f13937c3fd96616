import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import ScoringAPI

/// Measures how many phone-risk requests per second `PhoneRiskClient` completes against a server.
@main
struct ScoringBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scoring-bench",
        abstract: "Phone-risk requests/s of the provider client against scoring-sim (see scripts/bench-scoring).",
        discussion: """
            Runs --concurrency loops for --seconds, each sending one request after another with a different number.
            --bare sends the same request with AsyncHTTPClient alone and reads the body without decoding it:
            the ceiling of the HTTP exchange itself.
            """
    )

    @Option(help: "Base URL of the phone risk API (scoring-sim's first output line).") var url: String
    @Option(help: "Bearer token.") var token = "sandbox-token"
    @Option(help: "Requests in flight at once.") var concurrency = 256
    @Option(help: "How long to run, in seconds.") var seconds = 10
    @Flag(help: "AsyncHTTPClient alone, no encoding or decoding.") var bare = false

    func run() async throws {
        let http = HTTPClientSettings(poolSize: concurrency + 16).makeHTTPClient()
        let client = PhoneRiskClient(httpClient: http, baseURL: url, tokens: StaticAccessToken(token))
        let endpoint = url.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/phone-service/phoneRiskScore"
        let clock = ContinuousClock()
        let cpuBefore = Self.processCPUSeconds()
        let start = clock.now
        let deadline = start + .seconds(seconds)
        let bare = self.bare
        let token = self.token
        let (completed, failed) = await withTaskGroup(of: (Int, Int).self) { group in
            for loop in 0..<concurrency {
                group.addTask {
                    var sequence = 0
                    var tally = (completed: 0, failed: 0)
                    while clock.now < deadline {
                        sequence += 1
                        let digits = String(loop * 1_000_000 + sequence)
                        let number = "+4366" + String(repeating: "0", count: max(0, 9 - digits.count)) + digits
                        let succeeded: Bool
                        if bare {
                            succeeded = await Self.bareRequest(http, endpoint, token: token, number: number)
                        } else {
                            succeeded = await Self.clientRequest(client, number: number, externalId: "bench-\(digits)")
                        }
                        if succeeded { tally.completed += 1 } else { tally.failed += 1 }
                    }
                    return tally
                }
            }
            return await group.reduce((0, 0)) { ($0.0 + $1.0, $0.1 + $1.1) }
        }
        let elapsed = clock.now - start
        let cpu = Self.processCPUSeconds() - cpuBefore
        try await http.shutdown()
        let rate = Double(completed) / (Double(elapsed.components.seconds)
            + Double(elapsed.components.attoseconds) / 1e18)
        print(
            "phone risk\(bare ? " (bare AsyncHTTPClient)" : ""): \(Int(rate)) requests/s, "
                + "\(failed) failed, \(concurrency) in flight, "
                + "\(Int(cpu * 1e6 / Double(max(1, completed)))) µs of this process's CPU per request")
    }

    /// User and system CPU time this process has used, in seconds.
    private static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        return user + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }

    private static func clientRequest(_ client: PhoneRiskClient, number: String, externalId: String) async -> Bool {
        guard let phone = try? PhoneNumber(number) else { return false }
        let request = PhoneRiskRequest(phoneNumber: phone, accountLifecycleEvent: .create, externalId: externalId)
        return (try? await client.score(request)) != nil
    }

    private static func bareRequest(_ http: HTTPClient, _ endpoint: String, token: String, number: String) async -> Bool {
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer " + token)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"phoneNumber":""# + number + #"","accountLifecycleEvent":"create"}"#))
        guard let response = try? await http.execute(request, timeout: .seconds(10)),
            (try? await response.body.collect(upTo: 1 << 20)) != nil
        else { return false }
        return response.status == .ok
    }
}
