import Hummingbird
import Logging
import Prometheus
import RiskPipeline

/// The worker's HTTP endpoints: `/metrics` (Prometheus text), `/health/live` and `/health/ready`.
struct HealthEndpoints {
    let registry: PrometheusCollectorRegistry
    let health: WorkerHealth

    /// The Hummingbird application serving the endpoints on `port` of every interface.
    func application(port: Int, logger: Logger) -> some ApplicationProtocol {
        let router = Router()
        let registry = self.registry
        let health = self.health
        router.get("/metrics") { _, _ -> Response in
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        router.get("/health/live") { _, _ -> Response in
            Self.status(health.isLive, health.isLive ? "live" : "stopped")
        }
        router.get("/health/ready") { _, _ -> Response in
            if let reason = health.unavailability { return Self.status(false, reason) }
            return Self.status(health.isReady, health.isReady ? "ready" : "not consuming")
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname("0.0.0.0", port: port), serverName: nil),
            logger: logger)
    }

    private static func status(_ ok: Bool, _ text: String) -> Response {
        Response(
            status: ok ? .ok : .serviceUnavailable,
            headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
    }
}
