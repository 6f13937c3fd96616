import Foundation
import Hummingbird
import Logging
import ScoringAPI
import ServiceLifecycle

/// The sandbox of both provider APIs: builds the Hummingbird application, runs it in-process, exposes its stats.
public struct ScoringSandbox: Sendable {
    /// How the sandbox listens and behaves.
    public let configuration: ScoringSandboxConfiguration
    let state: SandboxState

    /// Creates a sandbox whose outage ends, allowance refills and holds run on `clock`; nothing listens until the application runs.
    public init(
        configuration: ScoringSandboxConfiguration = ScoringSandboxConfiguration(),
        clock: some Clock<Duration> = ContinuousClock()
    ) {
        self.configuration = configuration
        state = SandboxState(outage: configuration.outage, allowance: configuration.allowance, clock: SandboxClock(clock))
    }

    /// The current counters and mode.
    public var stats: SandboxStats { state.snapshot() }

    /// Clears counters and the forced mode, and puts back the configuration's outage and allowance.
    public func reset() { state.reset() }

    /// Starts an outage now (on `outage.provider`, or both); it replaces the one in force there.
    public func setOutage(_ outage: SandboxOutage) { state.setOutage(outage) }

    /// Ends the outage on `provider`, or on both when nil; held requests are answered 503.
    public func clearOutage(provider: SandboxProvider? = nil) { state.clearOutage(on: provider) }

    /// The outages in force, each with the time it has left as its `duration`.
    public var outages: [SandboxProvider: SandboxOutage] { state.outages() }

    /// The allowance in force.
    public var allowance: SandboxAllowance { state.allowance() }

    /// Sets the allowance from now, with full buckets; `SandboxAllowance()` is unlimited.
    public func setAllowance(_ allowance: SandboxAllowance) { state.setAllowance(allowance) }

    /// Makes every token issued by `/auth` invalid, as if they had expired.
    public func revokeTokens() { state.revokeTokens() }

    /// Forces a code on every request; `SandboxMode()` clears it.
    public func setMode(_ mode: SandboxMode) { state.setMode(mode) }

    /// Builds the Hummingbird application; `onServerRunning` receives the bound port (useful with port 0).
    public func makeApplication(
        logger: Logger = Logger(label: "scoring-sim"),
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// Runs the sandbox in-process, calls `body` with its base URL (such as `http://127.0.0.1:53124`), then stops it.
    public func withRunning<T: Sendable>(
        logger: Logger = Logger(label: "scoring-sim"),
        _ body: (String) async throws -> T
    ) async throws -> T {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let application = makeApplication(logger: logger) { port in
            continuation.yield(port)
            continuation.finish()
        }
        let host = configuration.host == "0.0.0.0" || configuration.host == "::" ? "127.0.0.1" : configuration.host
        let services = ServiceGroup(
            configuration: .init(services: [application], gracefulShutdownSignals: [], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { continuation.finish() }
                try await services.run()
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else {
                try await group.next()
                throw SandboxStartError()
            }
            do {
                let result = try await body("http://\(host):\(port)")
                await services.triggerGracefulShutdown()
                try await group.waitForAll()
                return result
            } catch {
                await services.triggerGracefulShutdown()
                throw error
            }
        }
    }

    /// The routes: `/auth`, `/phone-service/phoneRiskScore`, `/lookup/number-scoring` and `/_sim/*`.
    public func makeRouter() -> Router<SandboxRequestContext> {
        let router = Router(context: SandboxRequestContext.self)
        let routes = SandboxRoutes(configuration: configuration, state: state)
        router.post("/auth") { request, _ in try await routes.auth(request) }
        router.post("/phone-service/phoneRiskScore") { request, context in
            try await routes.phoneRisk(request, context: context)
        }
        router.post("/lookup/number-scoring") { request, context in
            try await routes.numberScoring(request, context: context)
        }
        router.get("/_sim/stats") { _, _ in routes.statsResponse() }
        router.post("/_sim/reset") { _, _ in routes.resetResponse() }
        router.post("/_sim/revoke-tokens") { _, _ in routes.revokeTokensResponse() }
        router.get("/_sim/mode") { _, _ in routes.modeResponse() }
        router.post("/_sim/mode") { request, _ in try await routes.setMode(request) }
        router.get("/_sim/outage") { _, _ in routes.outageResponse() }
        router.post("/_sim/outage") { request, _ in try await routes.setOutage(request) }
        router.delete("/_sim/outage") { request, _ in routes.clearOutage(request) }
        router.get("/_sim/allowance") { _, _ in routes.allowanceResponse() }
        router.post("/_sim/allowance") { request, _ in try await routes.setAllowance(request) }
        router.delete("/_sim/allowance") { _, _ in routes.clearAllowance() }
        return router
    }
}
