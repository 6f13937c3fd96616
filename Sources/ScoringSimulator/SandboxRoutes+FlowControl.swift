import Foundation
import Hummingbird
import ScoringAPI

/// The admin endpoints of outages and allowances: `/_sim/outage` and `/_sim/allowance`.
extension SandboxRoutes {
    private static let longestSeconds = 86_400.0
    private static let largestAllowance = 1_000_000

    /// `GET /_sim/outage`: `{"phoneRisk": {"kind", "secondsLeft"?, "retryAfter"?}, "numberScoring": …}`, each while down.
    func outageResponse() -> Response {
        Self.json(.ok, Self.outageJSON(state.outages()))
    }

    /// `POST /_sim/outage` with `{"kind", "provider"?, "seconds"?, "retryAfter"?}`; without `kind` it clears.
    func setOutage(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: Self.maxBody)
        let fields: [String: JSONValue]
        switch Self.object(body, allowed: ["kind", "provider", "seconds", "retryAfter"]) {
        case .failure(let problem): return Self.badAdminRequest(problem)
        case .success(let object): fields = object
        }
        let provider: SandboxProvider?
        switch Self.provider(fields["provider"]) {
        case .failure(let problem): return Self.badAdminRequest(problem)
        case .success(let parsed): provider = parsed
        }
        guard let kindValue = fields["kind"], kindValue != .null else {
            guard Self.isAbsent(fields["seconds"]), Self.isAbsent(fields["retryAfter"]) else {
                return Self.badAdminRequest("seconds and retryAfter need a kind")
            }
            state.clearOutage(on: provider)
            return outageResponse()
        }
        guard let kind = kindValue.stringValue.flatMap(SandboxOutage.Kind.init(rawValue:)) else {
            return Self.badAdminRequest("kind must be one of unavailable, drop, hang")
        }
        var outage = SandboxOutage(kind, provider: provider)
        if let seconds = fields["seconds"], seconds != .null {
            guard let value = Self.number(seconds), value > 0, value <= Self.longestSeconds else {
                return Self.badAdminRequest("seconds must be a number above 0 and at most 86400")
            }
            outage.duration = .milliseconds(Int64((value * 1000).rounded(.up)))
        }
        if let retryAfter = fields["retryAfter"], retryAfter != .null {
            guard let value = Self.wholeNumber(retryAfter), (0...86_400).contains(value) else {
                return Self.badAdminRequest("retryAfter must be a whole number of seconds, 0...86400")
            }
            outage.retryAfter = value
        }
        state.setOutage(outage)
        return outageResponse()
    }

    /// `DELETE /_sim/outage`, or `DELETE /_sim/outage?provider=phone-risk|number-scoring`: ends the outage.
    func clearOutage(_ request: Request) -> Response {
        let query = request.uri.queryParameters
        let provider: SandboxProvider?
        switch Self.provider(query["provider"].map { JSONValue.string(String($0)) }) {
        case .failure(let problem): return Self.badAdminRequest(problem)
        case .success(let parsed): provider = parsed
        }
        state.clearOutage(on: provider)
        return outageResponse()
    }

    /// `GET /_sim/allowance`: `{"numberScoringPerSecond": 0, "phoneRiskPerSecond": 5}` (0 is unlimited).
    func allowanceResponse() -> Response {
        Self.encoded(state.allowance())
    }

    /// `POST /_sim/allowance` with `{"phoneRiskPerSecond"?: N, "numberScoringPerSecond"?: N}`; absent or 0 is unlimited.
    func setAllowance(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: Self.maxBody)
        let fields: [String: JSONValue]
        switch Self.object(body, allowed: ["phoneRiskPerSecond", "numberScoringPerSecond"]) {
        case .failure(let problem): return Self.badAdminRequest(problem)
        case .success(let object): fields = object
        }
        var allowance = SandboxAllowance()
        for (name, keyPath) in [
            ("phoneRiskPerSecond", \SandboxAllowance.phoneRiskPerSecond),
            ("numberScoringPerSecond", \SandboxAllowance.numberScoringPerSecond),
        ] {
            guard let value = fields[name], value != .null else { continue }
            guard let perSecond = Self.wholeNumber(value), (0...Self.largestAllowance).contains(perSecond) else {
                return Self.badAdminRequest("\(name) must be a whole number, 0...\(Self.largestAllowance) (0 is unlimited)")
            }
            allowance[keyPath: keyPath] = perSecond
        }
        state.setAllowance(allowance)
        return allowanceResponse()
    }

    /// `DELETE /_sim/allowance`: no allowance (unlimited).
    func clearAllowance() -> Response {
        state.setAllowance(SandboxAllowance())
        return allowanceResponse()
    }

    // MARK: - parsing

    private static func outageJSON(_ outages: [SandboxProvider: SandboxOutage]) -> JSONValue {
        var object: [String: JSONValue] = [:]
        for (provider, outage) in outages {
            var entry: [String: JSONValue] = ["kind": .string(outage.kind.rawValue)]
            if let left = outage.duration {
                let milliseconds = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000
                entry["secondsLeft"] = .double(Double(milliseconds) / 1000)
            }
            if let retryAfter = outage.retryAfter { entry["retryAfter"] = .integer(Int64(retryAfter)) }
            object[provider == .phoneRisk ? "phoneRisk" : "numberScoring"] = .object(entry)
        }
        return .object(object)
    }

    /// A JSON object with only `allowed` keys; an empty body is `{}`.
    private static func object(_ body: ByteBuffer, allowed: Set<String>) -> Result<[String: JSONValue], AdminProblem> {
        guard body.readableBytes > 0 else { return .success([:]) }
        let expected = allowed.sorted().joined(separator: ", ")
        guard case .object(let object)? = try? JSONDecoder().decode(JSONValue.self, from: Data(body.readableBytesView)) else {
            return .failure(AdminProblem("the body must be a JSON object with \(expected)"))
        }
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            return .failure(AdminProblem("unknown field \(unknown); expected \(expected)"))
        }
        return .success(object)
    }

    private static func provider(_ value: JSONValue?) -> Result<SandboxProvider?, AdminProblem> {
        guard let value, value != .null else { return .success(nil) }
        guard let provider = value.stringValue.flatMap(SandboxProvider.init(rawValue:)) else {
            return .failure(AdminProblem("provider must be phone-risk or number-scoring (absent means both)"))
        }
        return .success(provider)
    }

    private static func isAbsent(_ value: JSONValue?) -> Bool {
        value == nil || value == .null
    }

    private static func number(_ value: JSONValue) -> Double? {
        switch value {
        case .integer(let integer): Double(integer)
        case .double(let double) where double.isFinite: double
        default: nil
        }
    }

    private static func wholeNumber(_ value: JSONValue) -> Int? {
        switch value {
        case .integer(let integer): Int(exactly: integer)
        case .double(let double) where double.isFinite && double.rounded() == double && abs(double) < 1e15: Int(double)
        default: nil
        }
    }

    /// Why an admin request body was refused.
    private struct AdminProblem: Error {
        let text: String
        init(_ text: String) { self.text = text }
    }

    private static func badAdminRequest(_ problem: AdminProblem) -> Response {
        json(.badRequest, ["error": .string(problem.text)])
    }

    private static func badAdminRequest(_ text: String) -> Response {
        badAdminRequest(AdminProblem(text))
    }
}
