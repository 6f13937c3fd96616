import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat

/// Client for `POST {base}/phone-service/phoneRiskScore` with a bearer token.
public struct PhoneRiskClient: Sendable, CustomStringConvertible {
    private let transport: ProviderTransport
    private let url: String
    private let tokens: any AccessTokenSource
    private let logger: Logger

    /// Creates a client on a shared `HTTPClient`; `baseURL` is the part before `/phone-service/...`.
    public init(
        httpClient: HTTPClient,
        baseURL: String,
        tokens: any AccessTokenSource,
        requestTimeout: Duration = .seconds(10),
        logger: Logger = Logger(label: "scoring.phone-risk")
    ) {
        self.transport = ProviderTransport(httpClient: httpClient, requestTimeout: requestTimeout, maxBodyBytes: 1 << 20)
        self.url = baseURL.trimmingTrailingSlashes() + "/phone-service/phoneRiskScore"
        self.tokens = tokens
        self.logger = logger
    }

    /// The endpoint, without credentials.
    public var description: String { "PhoneRiskClient(\(url))" }

    /// Scores one number; a 401 renews the token and retries once, then fails as account-level.
    public func score(_ request: PhoneRiskRequest) async throws(ScoringError) -> PhoneRiskResult {
        let body = ByteBuffer(bytes: request.jsonBody())
        var token = try await tokens.token()
        var reply = try await send(body: body, token: token)
        if reply.status == 401 {
            logger.debug("phone risk answered 401, renewing the token once")
            if let renewed = try await tokens.renewToken(rejected: token) {
                token = renewed
                reply = try await send(body: body, token: token)
            }
        }
        do {
            return try Self.interpret(reply)
        } catch {
            throw error.redacting([token])
        }
    }

    private func send(body: ByteBuffer, token: String) async throws(ScoringError) -> ProviderTransport.Reply {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer " + token)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(body)
        do {
            return try await transport.send(request)
        } catch {
            throw error.redacting([token])
        }
    }

    /// Turns a reply into a result or a classified error.
    static func interpret(_ reply: ProviderTransport.Reply) throws(ScoringError) -> PhoneRiskResult {
        guard (200..<300).contains(reply.status) else {
            throw ScoringError.http(
                status: reply.status, retryAfter: reply.retryAfter, detail: ProviderTransport.bodySummary(reply.body))
        }
        let parsed = try ProviderTransport.parse(reply.body)
        let envelope = try JSONTreeReader.read(PhoneRiskEnvelope.self, from: parsed.value)
        return try interpret(envelope, dataJSON: { parsed.document.memberRanges["data"].map(parsed.bytes) })
    }

    /// Turns a decoded envelope into a result or a classified error; `dataJSON` gives the `data` object's bytes as
    /// received (nil: written from the tree).
    static func interpret(_ envelope: PhoneRiskEnvelope, dataJSON: () -> [UInt8]? = { nil }) throws(ScoringError) -> PhoneRiskResult {
        var data: PhoneRiskData?
        if let captured = envelope.data {
            switch captured.typed {
            case .success(let value): data = value
            case .failure(let error): throw error.prefixingPath("data")
            }
        }
        let errors = (data?.errors ?? []) + (envelope.errors ?? [])
        let statusCode = data?.status?.code
        if envelope.status, errors.isEmpty, let statusCode, statusCode == 300 || statusCode == 301,
            let data, let raw = envelope.data?.raw
        {
            return PhoneRiskResult(data: data, rawData: raw, dataJSON: dataJSON(), statusCode: statusCode)
        }
        if envelope.status, errors.isEmpty, data == nil {
            throw ScoringError.decoding(path: "data", "required field is missing")
        }
        if envelope.status, errors.isEmpty, statusCode == nil {
            throw ScoringError.decoding(path: "data.status.code", "required field is missing")
        }
        throw PhoneRiskClassification.failure(statusCode: statusCode, errors: errors)
    }
}
