import Foundation
import Hummingbird
import ScoringAPI
import ServiceLifecycle

/// The request handlers of the sandbox.
struct SandboxRoutes: Sendable {
    let configuration: ScoringSandboxConfiguration
    let state: SandboxState

    static let maxBody = 1 << 20
    private static let maxMsisdns = 1000

    // MARK: - /auth

    /// `POST /auth`: form-encoded, headers `Api-Key` and `Customer-Id`; issues a bearer token.
    func auth(_ request: Request) async throws -> Response {
        let apiKey = Self.header(request.headers, "api-key")
        let customerId = Self.header(request.headers, "customer-id") ?? ""
        let contentType = request.headers[.contentType]?.lowercased() ?? "application/x-www-form-urlencoded"
        let body = try await request.body.collect(upTo: Self.maxBody)
        guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
            state.recordAuthRefused(status: 400)
            return Self.json(
                .badRequest,
                ["error": "invalid_request", "error_description": "the body must be application/x-www-form-urlencoded"])
        }
        let form = Self.parseForm(String(buffer: body))
        if let grant = form["grant_type"], grant != "client_credentials" {
            state.recordAuthRefused(status: 400)
            return Self.json(
                .badRequest, ["error": "unsupported_grant_type", "error_description": "use client_credentials"])
        }
        guard apiKey == configuration.apiKey, !customerId.isEmpty else {
            state.recordAuthRefused(status: 401)
            return Self.json(.unauthorized, ["error": "invalid_client", "error_description": "unknown Api-Key or Customer-Id"])
        }
        var random = SystemRandomNumberGenerator()
        let token = "sim_" + String(random.next(), radix: 16) + String(random.next(), radix: 16)
        let lifetime = max(1, configuration.tokenLifetimeSeconds)
        state.recordAuth(issue: token, expiresAt: .now.advanced(by: .seconds(lifetime)))
        return Self.json(
            .ok, ["access_token": .string(token), "expires_in": .integer(Int64(lifetime)), "token_type": "Bearer"])
    }

    // MARK: - phone risk

    /// `POST /phone-service/phoneRiskScore`.
    func phoneRisk(_ request: Request, context: SandboxRequestContext) async throws -> Response {
        if let answer = try await outageAnswer(.phoneRisk, context) { return answer }
        try await delay()
        guard isAuthorized(request.headers[.authorization]) else {
            state.recordRejected(phoneRisk: true, status: 401)
            return Self.json(.unauthorized, ["status": false, "error": "missing, invalid or expired bearer token"])
        }
        let body = try await request.body.collect(upTo: Self.maxBody)
        let fields: [String: JSONValue]
        switch Self.parsePhoneRisk(body) {
        case .failure(let problem):
            state.recordRejected(phoneRisk: true, status: 400)
            return Self.json(
                .badRequest,
                ["status": false, "errors": [["code": .integer(Int64(problem.code)), "description": .string(problem.text)]]])
        case .success(let parsed):
            fields = parsed
        }
        let externalId = fields["externalId"]?.stringValue
        let now = Date().timeIntervalSince1970
        let admission = state.admit(1, to: .phoneRisk)
        guard admission.admitted == 1 else {
            let allowance = state.allowance().phoneRiskPerSecond
            return Self.json(
                .tooManyRequests,
                ["error": .string("too many requests: the allowance is \(allowance) phone risk requests a second")],
                headers: [.retryAfter: String(admission.retryAfter)])
        }
        if injectError() { return Self.injected() }
        let phoneText = fields["phoneNumber"]?.stringValue ?? ""
        guard let phone = try? PhoneNumber(phoneText) else {
            _ = state.recordPhoneRisk(msisdn: phoneText, externalId: externalId)
            return Self.json(
                .ok,
                PhoneRiskAnswer.failure(
                    msisdn: phoneText, externalId: externalId, statusCode: 500,
                    errors: [(11001, "Invalid value for parameter phoneNumber")], now: now))
        }
        let msisdn = phone.msisdn
        let (call, mode) = state.recordPhoneRisk(msisdn: msisdn, externalId: externalId)
        if let forced = mode.phoneRisk {
            let answer = PhoneRiskAnswer.forced(code: forced)
            return Self.json(
                .ok,
                PhoneRiskAnswer.failure(
                    msisdn: msisdn, externalId: externalId, statusCode: answer.status, errors: answer.errors, now: now))
        }
        var statusCode = 300
        switch Fault.of(msisdn: msisdn) {
        case .http(let fault):
            return Self.httpFault(fault)
        case .phoneRisk(let failure):
            let answer = failure.answer
            guard answer.status == 301 else {
                return Self.json(
                    .ok,
                    PhoneRiskAnswer.failure(
                        msisdn: msisdn, externalId: externalId, statusCode: answer.status, errors: answer.errors,
                        now: now))
            }
            statusCode = 301
        case .transient(let failures) where call <= failures:
            return Self.json(
                .ok,
                PhoneRiskAnswer.failure(
                    msisdn: msisdn, externalId: externalId, statusCode: 500,
                    errors: [(10019, "Rate limit exceeded (transient sandbox number)")], now: now))
        default:
            break
        }
        guard let profile = NumberProfile(msisdn: msisdn) else {
            return Self.json(
                .ok,
                PhoneRiskAnswer.failure(
                    msisdn: msisdn, externalId: externalId, statusCode: 500,
                    errors: [(11001, "Invalid value for parameter phoneNumber: country code not covered")], now: now))
        }
        return Self.json(
            .ok,
            PhoneRiskAnswer.success(
                profile: profile, e164: phone.e164, externalId: externalId, statusCode: statusCode, now: now))
    }

    // MARK: - number scoring

    /// `POST /lookup/number-scoring`.
    func numberScoring(_ request: Request, context: SandboxRequestContext) async throws -> Response {
        if let answer = try await outageAnswer(.numberScoring, context) { return answer }
        try await delay()
        guard Self.header(request.headers, "x-api-key") == configuration.apiKey else {
            state.recordRejected(phoneRisk: false, status: 401)
            return Self.json(.unauthorized, ["error": "missing or invalid X-API-KEY"])
        }
        let body = try await request.body.collect(upTo: Self.maxBody)
        let msisdns: [String]
        switch Self.parseNumberScoring(body) {
        case .failure(let problem):
            state.recordRejected(phoneRisk: false, status: 400)
            return Self.json(.badRequest, ["error": .string(problem.text)])
        case .success(let parsed):
            msisdns = parsed
        }
        // The allowance lets the first numbers through; the others answer 4 (throttled) without being looked up.
        let admitted = state.admit(msisdns.count, to: .numberScoring).admitted
        if injectError() { return Self.injected() }
        let (calls, mode) = state.recordNumberScoring(msisdns: msisdns, admitted: admitted)
        let faults = msisdns.prefix(admitted).map(Fault.of(msisdn:))
        for fault in faults {
            if case .http(let httpFault) = fault { return Self.httpFault(httpFault) }
        }
        let now = Date().timeIntervalSince1970
        var records: [JSONValue] = []
        records.reserveCapacity(msisdns.count)
        for (index, msisdn) in msisdns.enumerated() {
            guard index < admitted else {
                records.append(NumberScoringAnswer.failure(msisdn: msisdn, response: 4, now: now))
                continue
            }
            let valid = (8...15).contains(msisdn.utf8.count) && msisdn.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
                && msisdn.utf8.first != 48
            if !valid {
                records.append(NumberScoringAnswer.failure(msisdn: msisdn, response: 5, now: now))
                continue
            }
            if let forced = mode.numberScoring, forced != 0 {
                records.append(NumberScoringAnswer.failure(msisdn: msisdn, response: forced, now: now))
                continue
            }
            switch faults[index] {
            case .numberScoringCode(let code):
                records.append(NumberScoringAnswer.failure(msisdn: msisdn, response: code, now: now))
                continue
            case .transient(let failures) where calls[index] <= failures:
                records.append(NumberScoringAnswer.failure(msisdn: msisdn, response: 4, now: now))
                continue
            case .omitRecord:
                continue
            default:
                break
            }
            guard let profile = NumberProfile(msisdn: msisdn) else {
                records.append(NumberScoringAnswer.failure(msisdn: msisdn, response: 6, now: now))
                continue
            }
            records.append(NumberScoringAnswer.success(profile: profile, now: now))
        }
        // Reversed on purpose: the provider does not guarantee order, so clients must match by msisdn.
        return Self.json(.ok, .array(records.reversed()))
    }

    // MARK: - admin

    /// `GET /_sim/stats`.
    func statsResponse() -> Response {
        Self.encoded(state.snapshot())
    }

    /// `POST /_sim/reset`.
    func resetResponse() -> Response {
        state.reset()
        return Self.json(.ok, ["reset": true])
    }

    /// `POST /_sim/revoke-tokens`: tokens issued by `/auth` stop working (to exercise renewal after a 401).
    func revokeTokensResponse() -> Response {
        state.revokeTokens()
        return Self.json(.ok, ["revoked": true])
    }

    /// `GET /_sim/mode`.
    func modeResponse() -> Response {
        Self.encoded(state.snapshot().mode)
    }

    /// `POST /_sim/mode` with `{"numberScoring": 3}`, `{"phoneRisk": 501}`, both, or `{}` to clear.
    func setMode(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: Self.maxBody)
        let mode: SandboxMode
        do {
            mode = body.readableBytes == 0 ? SandboxMode() : try JSONDecoder().decode(SandboxMode.self, from: Data(body.readableBytesView))
        } catch {
            return Self.json(.badRequest, ["error": "expected {\"numberScoring\": 1...8} and/or {\"phoneRisk\": code}, or {}"])
        }
        if let code = mode.numberScoring, !(0...8).contains(code) {
            return Self.json(.badRequest, ["error": "numberScoring must be 0...8"])
        }
        state.setMode(mode)
        return Self.encoded(mode)
    }

    // MARK: - helpers

    /// The answer an outage on `provider` gives, or nil when there is none; a `drop` closes the connection and throws.
    private func outageAnswer(_ provider: SandboxProvider, _ context: SandboxRequestContext) async throws -> Response? {
        switch state.gate(provider) {
        case .open:
            return nil
        case .unavailable(let retryAfter):
            return Self.outageUnavailable(retryAfter: retryAfter, held: false)
        case .drop:
            try? await context.channel.close()
            throw ConnectionDropped()
        case .hang:
            await hold(provider)
            return Self.outageUnavailable(retryAfter: state.endHold(on: provider), held: true)
        }
    }

    /// Holds a request while `provider` has a `hang` outage, at most `FlowControl.longestHold`, until shutdown.
    private func hold(_ provider: SandboxProvider) async {
        let state = state
        let limit = state.clock.now() + FlowControl.longestHold
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled, let hold = state.hold(on: provider) {
                let deadline = min(hold.endsAt ?? limit, limit)
                guard state.clock.now() < deadline else { return }
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { try? await state.clock.sleep(deadline) }
                    group.addTask { await state.outageChange(on: provider, after: hold.change) }
                    await group.next()
                    group.cancelAll()
                }
            }
        }
    }

    /// Thrown after a `drop` outage closed the connection, so nothing is answered.
    private struct ConnectionDropped: Error {}

    private static func outageUnavailable(retryAfter: Int, held: Bool) -> Response {
        let text = held ? "service unavailable (simulated outage; the request was held)" : "service unavailable (simulated outage)"
        return json(.serviceUnavailable, ["error": .string(text)], headers: [.retryAfter: String(retryAfter)])
    }

    private func delay() async throws {
        var total = configuration.latency
        if configuration.jitter > .zero {
            let jitterNanos = configuration.jitter.components.seconds * 1_000_000_000
                + configuration.jitter.components.attoseconds / 1_000_000_000
            total += .nanoseconds(Int64.random(in: 0...max(jitterNanos, 0)))
        }
        if total > .zero {
            try await Task.sleep(for: total)
        }
    }

    private func injectError() -> Bool {
        guard configuration.errorRate > 0, Double.random(in: 0..<1) < configuration.errorRate else { return false }
        state.recordInjectedError()
        return true
    }

    private func isAuthorized(_ header: String?) -> Bool {
        guard let header, header.count > 7, header.prefix(7).lowercased() == "bearer " else { return false }
        let token = String(header.dropFirst(7))
        return token == configuration.token || state.isIssued(token, now: .now)
    }

    static func header(_ headers: HTTPFields, _ lowercasedName: String) -> String? {
        for field in headers where field.name.canonicalName == lowercasedName {
            return field.value
        }
        return nil
    }

    private struct Problem: Error {
        let code: Int
        let text: String
    }

    /// The phone risk body, decoded without building a JSON tree (fields that are not strings are type errors).
    private struct PhoneRiskBody: Decodable {
        var phoneNumber: String?
        var phone: String?
        var accountLifecycleEvent: String?
        var externalId: String?
        var originatingIp: String?
        var deviceId: String?
        var accountId: String?
        var emailAddress: String?
    }

    private static func parsePhoneRisk(_ body: ByteBuffer) -> Result<[String: JSONValue], Problem> {
        let parsed: PhoneRiskBody
        do {
            parsed = try JSONDecoder().decode(PhoneRiskBody.self, from: Data(body.readableBytesView))
        } catch DecodingError.typeMismatch(_, let context) {
            let field = context.codingPath.first?.stringValue ?? "body"
            if field == "body" { return .failure(Problem(code: 11000, text: "the body must be a JSON object")) }
            return .failure(Problem(code: field == "phoneNumber" ? 11001 : 11003, text: "\(field) must be a string"))
        } catch {
            return .failure(Problem(code: 11000, text: "the body must be a JSON object"))
        }
        guard let phone = parsed.phoneNumber else {
            let hint = parsed.phone != nil ? " (the field is phoneNumber, not phone)" : ""
            return .failure(Problem(code: 12001, text: "missing required parameter phoneNumber" + hint))
        }
        guard let event = parsed.accountLifecycleEvent else {
            return .failure(Problem(code: 12002, text: "missing required parameter accountLifecycleEvent"))
        }
        guard AccountLifecycleEvent(rawValue: event) != nil else {
            return .failure(
                Problem(code: 11002, text: "accountLifecycleEvent must be one of create, sign-in, transact, update, delete"))
        }
        var fields: [String: JSONValue] = ["phoneNumber": .string(phone), "accountLifecycleEvent": .string(event)]
        if let externalId = parsed.externalId { fields["externalId"] = .string(externalId) }
        return .success(fields)
    }

    /// The number scoring body, decoded without building a JSON tree.
    private struct NumberScoringBody: Decodable {
        var msisdn: [String]?
        var callbackURL: String?

        enum CodingKeys: String, CodingKey {
            case msisdn
            case callbackURL = "callback_url"
        }
    }

    private static func parseNumberScoring(_ body: ByteBuffer) -> Result<[String], Problem> {
        let parsed: NumberScoringBody
        do {
            parsed = try JSONDecoder().decode(NumberScoringBody.self, from: Data(body.readableBytesView))
        } catch DecodingError.typeMismatch(_, let context) where context.codingPath.first?.stringValue == "callback_url" {
            return .failure(Problem(code: 400, text: "callback_url must be a string"))
        } catch DecodingError.typeMismatch(_, let context) where !context.codingPath.isEmpty {
            return .failure(Problem(code: 400, text: "msisdn must be an array of strings"))
        } catch {
            return .failure(Problem(code: 400, text: "the body must be a JSON object"))
        }
        guard let msisdns = parsed.msisdn else {
            return .failure(Problem(code: 400, text: "msisdn must be an array of strings"))
        }
        guard !msisdns.isEmpty, msisdns.count <= maxMsisdns else {
            return .failure(Problem(code: 400, text: "msisdn must hold 1 to \(maxMsisdns) numbers"))
        }
        return .success(msisdns)
    }

    private static func parseForm(_ text: String) -> [String: String] {
        var form: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard let key = parts.first else { continue }
            let value = parts.count > 1 ? String(parts[1]) : ""
            let decoded = value.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? value
            form[String(key)] = decoded
        }
        return form
    }

    static func json(_ status: HTTPResponse.Status, _ value: JSONValue, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: value.jsonBytes(sortedKeys: false))))
    }

    static func encoded(_ value: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: Array(data))))
    }

    private static func injected() -> Response {
        json(.internalServerError, ["error": "injected failure (--error-rate)"])
    }

    static func httpFault(_ fault: Fault.HTTPFault) -> Response {
        switch fault {
        case .tooManyRequests:
            return json(.tooManyRequests, ["error": "too many requests"], headers: [.retryAfter: "1"])
        case .internalError:
            return json(.internalServerError, ["error": "internal server error"])
        case .unavailable:
            return json(.serviceUnavailable, ["error": "service unavailable"], headers: [.retryAfter: "2"])
        case .badGatewayHTML:
            let html = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
            return Response(
                status: .badGateway, headers: [.contentType: "text/html"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
        case .truncatedJSON:
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: "{\"status\": true, \"data\": {\"referenceId\": \"3661FD")))
        case .forbidden:
            return json(.forbidden, ["error": "forbidden"])
        }
    }
}
