import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOPosix
import ScoringAPI
import ScoringSimulator

/// A sandbox served on 127.0.0.1 port 0, with an HTTP client pointed at it.
struct LiveSandbox: Sendable {
    /// An HTTP answer: status code, `Retry-After` and body.
    struct Answer: Sendable {
        let status: Int
        let retryAfter: String?
        let body: JSONValue?
    }

    static let configuration = ScoringSandboxConfiguration(host: "127.0.0.1", port: 0, token: "tok", apiKey: "key")
    static let phoneRiskBody = #"{"phoneNumber":"+436501234567","accountLifecycleEvent":"create"}"#

    let sandbox: ScoringSandbox
    let baseURL: String
    let client: HTTPClient

    /// The port the sandbox listens on.
    var port: Int { Int(baseURL.split(separator: ":").last ?? "") ?? 0 }

    /// Runs `body` against a fresh sandbox on `clock`, then shuts the sandbox and the client down.
    static func run<T: Sendable>(
        _ configuration: ScoringSandboxConfiguration = LiveSandbox.configuration,
        clock: some Clock<Duration> = ContinuousClock(),
        _ body: (LiveSandbox) async throws -> T
    ) async throws -> T {
        let sandbox = ScoringSandbox(configuration: configuration, clock: clock)
        var logger = Logger(label: "scoring-sim-test")
        logger.logLevel = .critical
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        do {
            let result = try await sandbox.withRunning(logger: logger) { baseURL in
                try await body(LiveSandbox(sandbox: sandbox, baseURL: baseURL, client: client))
            }
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// Sends `method` to `path` with `body`; throws what the client throws (a dropped connection, a deadline).
    func send(
        _ method: String, _ path: String, headers: [String: String] = [:], _ body: String? = nil,
        timeout: TimeAmount = .seconds(10)
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .init(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await client.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 1 << 20)
        let json = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes.readableBytesView))
        return Answer(status: Int(response.status.code), retryAfter: response.headers.first(name: "Retry-After"), body: json)
    }

    /// A phone risk request with the static token.
    func phoneRisk(timeout: TimeAmount = .seconds(10)) async throws -> Answer {
        try await send(
            "POST", "/phone-service/phoneRiskScore", headers: ["Authorization": "Bearer tok"], Self.phoneRiskBody,
            timeout: timeout)
    }

    /// A number scoring request for `msisdns`.
    func numberScoring(_ msisdns: [String], timeout: TimeAmount = .seconds(10)) async throws -> Answer {
        let list = msisdns.map { "\"\($0)\"" }.joined(separator: ",")
        return try await send(
            "POST", "/lookup/number-scoring", headers: ["X-API-KEY": "key"], #"{"msisdn":[\#(list)]}"#, timeout: timeout)
    }

    /// Sends `request` over a plain TCP connection and returns every byte that comes back before the connection ends.
    func raw(_ request: String) async throws -> [UInt8] {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: request))
            var received: [UInt8] = []
            do {
                for try await chunk in inbound { received.append(contentsOf: chunk.readableBytesView) }
            } catch {
                // a reset connection ends the answer as well as a close does
            }
            return received
        }
    }

    /// A raw HTTP/1.1 request, closing the connection after the answer.
    static func rawRequest(_ path: String, headers: [String: String], body: String) -> String {
        var lines = ["POST \(path) HTTP/1.1", "Host: 127.0.0.1", "Connection: close", "Content-Type: application/json",
                     "Content-Length: \(body.utf8.count)"]
        lines += headers.map { "\($0.key): \($0.value)" }
        return lines.joined(separator: "\r\n") + "\r\n\r\n" + body
    }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}

/// A JSON number as a `Double`, whether written with a fraction or not.
func number(_ value: JSONValue?) -> Double? {
    switch value {
    case .integer(let integer)?: Double(integer)
    case .double(let double)?: double
    default: nil
    }
}
