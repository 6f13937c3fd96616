import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat

/// Client for `POST {base}/lookup/number-scoring` with the `X-API-KEY` header.
public struct NumberScoringClient: Sendable, CustomStringConvertible {
    private let transport: ProviderTransport
    private let url: String
    private let apiKey: String
    private let logger: Logger

    /// Creates a client on a shared `HTTPClient`; `baseURL` is the part before `/lookup/...`.
    public init(
        httpClient: HTTPClient,
        baseURL: String,
        apiKey: String,
        requestTimeout: Duration = .seconds(10),
        logger: Logger = Logger(label: "scoring.number-scoring")
    ) {
        self.transport = ProviderTransport(httpClient: httpClient, requestTimeout: requestTimeout, maxBodyBytes: 16 << 20)
        self.url = baseURL.trimmingTrailingSlashes() + "/lookup/number-scoring"
        self.apiKey = apiKey
        self.logger = logger
    }

    /// The endpoint, without the API key.
    public var description: String { "NumberScoringClient(\(url))" }

    /// Looks up several numbers in one request; per-number outcomes come from `result(for:)` of the answer.
    /// Throws when the whole request fails (transport, timeout, HTTP status, undecodable body).
    public func lookup(_ numbers: [PhoneNumber], callbackURL: String? = nil) async throws(ScoringError)
        -> NumberScoringBatchResult
    {
        do {
            return try await perform(NumberScoringRequest(numbers: numbers, callbackURL: callbackURL))
        } catch {
            throw error.redacting([apiKey])
        }
    }

    private func perform(_ body: NumberScoringRequest) async throws(ScoringError) -> NumberScoringBatchResult {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "X-API-KEY", value: apiKey)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        do {
            request.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(body)))
        } catch {
            throw ScoringError(
                kind: .invalidPhoneNumber, disposition: .permanent, code: "invalid-request",
                message: "the request could not be encoded")
        }
        let reply = try await transport.send(request)
        guard (200..<300).contains(reply.status) else {
            throw ScoringError.http(
                status: reply.status, retryAfter: reply.retryAfter, detail: ProviderTransport.bodySummary(reply.body))
        }
        let decoded = try NumberScoringBody(ProviderTransport.parse(reply.body))
        return Self.index(decoded)
    }

    /// Indexes decoded elements by msisdn, keeping typed failures for records whose msisdn is readable.
    static func index(_ body: NumberScoringBody) -> NumberScoringBatchResult {
        var records: [String: NumberScoringRecord] = [:]
        var undecodable: [String: ScoringError] = [:]
        for (index, element) in body.elements.enumerated() {
            switch element.typed {
            case .success(let fields):
                if records[fields.msisdn] == nil {
                    records[fields.msisdn] = NumberScoringRecord(fields: fields, raw: element.raw, json: body.json(at: index))
                }
            case .failure(let error):
                if let msisdn = element.raw["msisdn"]?.stringValue, records[msisdn] == nil {
                    undecodable[msisdn] = error
                }
            }
        }
        return NumberScoringBatchResult(records: records, undecodable: undecodable)
    }
}
