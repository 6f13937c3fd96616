import Foundation
import Hummingbird
import Logging
import Synchronization

/// A small Hummingbird server serving broken or unusual answers that the sandbox never gives.
enum TinyServer {
    /// Counts calls per path.
    final class Counter: Sendable {
        private let counts = Mutex([String: Int]())
        func hit(_ path: String) { counts.withLock { $0[path, default: 0] += 1 } }
        func count(_ path: String) -> Int { counts.withLock { $0[path] ?? 0 } }
    }

    static let fixtureJSON: String = {
        guard let url = Bundle.module.url(forResource: "phone-risk-score-example", withExtension: "json", subdirectory: "Fixtures"),
            let data = try? Data(contentsOf: url)
        else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }()

    static func reply(_ text: String, _ status: HTTPResponse.Status = .ok, type: String = "application/json") -> Response {
        Response(status: status, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static let html = "<!DOCTYPE html><html><body><h1>Service Unavailable</h1></body></html>"

    /// Serves each behaviour under its own base path: `/html`, `/truncated`, `/wrongtypes`, `/fixture`, `/single`,
    /// `/notarray`, `/always401`, `/missingstatus`.
    static func withRunning<T: Sendable>(_ body: (String, Counter) async throws -> T) async throws -> T {
        let counter = Counter()
        let router = Router()
        router.post("/html/phone-service/phoneRiskScore") { _, _ in reply(html, type: "text/html") }
        router.post("/html/lookup/number-scoring") { _, _ in reply(html, type: "text/html") }
        router.post("/truncated/phone-service/phoneRiskScore") { _, _ in reply(String(fixtureJSON.prefix(300))) }
        router.post("/truncated/lookup/number-scoring") { _, _ in reply("[{\"msisdn\": \"436501234567\", \"resp") }
        router.post("/wrongtypes/phone-service/phoneRiskScore") { _, _ in
            reply(fixtureJSON.replacingOccurrences(of: "\"score\": 301", with: "\"score\": \"high\""))
        }
        router.post("/wrongtypes/lookup/number-scoring") { _, _ in
            reply("""
                [{"msisdn": "436501234567", "response": 0, "phone": {"ported_times": 2}},
                 {"msisdn": "436501234568", "response": 0, "phone": {"ported_times": "four"}},
                 {"response": 0}]
                """)
        }
        router.post("/wrongtypes-status/phone-service/phoneRiskScore") { _, _ in reply("{\"status\": \"yes\", \"data\": {}}") }
        router.post("/missingstatus/phone-service/phoneRiskScore") { _, _ in reply("{\"status\": true, \"data\": {\"risk\": {\"score\": 5}}}") }
        router.post("/fixture/phone-service/phoneRiskScore") { _, _ in reply(fixtureJSON) }
        router.post("/single/lookup/number-scoring") { _, _ in
            reply("{\"date\": \"2025-06-21T17:21:56.526Z\", \"msisdn\": \"38591234567\", \"response\": 0, \"scoring\": {\"credibility\": \"high\"}, \"extra_field\": [1, 2]}")
        }
        router.post("/notarray/lookup/number-scoring") { _, _ in reply("\"oops\"") }
        router.post("/always401/auth") { _, _ in
            counter.hit("auth")
            return reply("{\"access_token\": \"tiny-issued-token-\(counter.count("auth"))\", \"expires_in\": 3600, \"token_type\": \"Bearer\"}")
        }
        router.post("/always401/phone-service/phoneRiskScore") { _, _ in
            counter.hit("phoneRisk")
            return reply("{\"status\": false, \"errors\": [{\"code\": 10010, \"description\": \"Unauthorized\"}]}", .unauthorized)
        }
        var logger = Logger(label: "tiny-server")
        logger.logLevel = .critical
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let application = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { continuation.finish() }
                try await application.run()
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else {
                try await group.next()
                throw CancellationError()
            }
            defer { group.cancelAll() }
            return try await body("http://127.0.0.1:\(port)", counter)
        }
    }
}
