import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOSSL

/// Sends one request on the shared `HTTPClient` and turns every failure into a `ScoringError`.
struct ProviderTransport: Sendable {
    /// A received response: status, headers and the collected body.
    struct Reply: Sendable {
        /// HTTP status code.
        let status: Int
        /// The `Retry-After` header as a duration (seconds or an HTTP date), when present and parseable.
        let retryAfter: Duration?
        /// The whole body.
        let body: ByteBuffer
    }

    /// The shared client.
    let httpClient: HTTPClient
    /// The deadline for a whole exchange, body included.
    let requestTimeout: Duration
    /// The largest body accepted.
    let maxBodyBytes: Int

    /// Sends `request` and collects the body; throws transport or timeout errors.
    func send(_ request: HTTPClientRequest) async throws(ScoringError) -> Reply {
        do {
            let deadline = NIODeadline.now() + requestTimeout.timeAmount
            let response = try await httpClient.execute(request, deadline: deadline)
            let body = try await response.body.collect(upTo: maxBodyBytes)
            return Reply(
                status: Int(response.status.code),
                retryAfter: Self.parseRetryAfter(response.headers.first(name: "Retry-After")),
                body: body)
        } catch let error as HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout, .tlsHandshakeTimeout,
                .getConnectionFromPoolTimeout, .socksHandshakeTimeout, .httpProxyHandshakeTimeout:
                throw .timeout("request to the provider timed out (\(error))")
            case .proxyAuthenticationRequired:
                throw .transport("the proxy asked for credentials (407): none or wrong ones were given")
            case .invalidProxyResponse:
                throw .transport("the proxy refused the CONNECT tunnel to the provider (\(error))")
            default:
                throw .transport("request to the provider failed (\(error))")
            }
        } catch let error as NIOSSLError {
            // Certificate verification failures land here: an untrusted CA, an expired or self-signed certificate.
            throw .transport("TLS handshake with the provider failed (\(error))")
        } catch let error as NIOSSLExtraError {
            throw .transport("TLS handshake with the provider failed (\(error))")
        } catch is CancellationError {
            throw .transport("request cancelled")
        } catch {
            throw .transport("request to the provider failed (\(String(describing: type(of: error))): \(error))")
        }
    }

    /// A reply body parsed as one JSON value, whose parts can be copied out exactly as received.
    struct ParsedBody {
        /// The value and where it and its children lie in `body`'s readable bytes.
        let document: JSONValueParser.Document
        /// The body parsed.
        let body: ByteBuffer

        /// The value.
        var value: JSONValue { document.value }

        /// The bytes in `range` of the body's readable bytes (a range of `document`).
        func bytes(_ range: Range<Int>) -> [UInt8] {
            body.getBytes(at: body.readerIndex + range.lowerBound, length: range.count) ?? []
        }
    }

    /// Parses `body` as one JSON value; invalid JSON is a decoding error at `(body)`.
    static func parse(_ body: ByteBuffer) throws(ScoringError) -> ParsedBody {
        do throws(JSONValueParser.Failure) {
            let document = try body.withUnsafeReadableBytes { raw throws(JSONValueParser.Failure) in
                try JSONValueParser.document(raw.assumingMemoryBound(to: UInt8.self))
            }
            return ParsedBody(document: document, body: body)
        } catch {
            throw .decoding(path: "(body)", "not valid JSON: \(error.reason) at byte \(error.offset)")
        }
    }

    /// A short, credential-free summary of an error body for messages (first 200 characters, one line).
    static func bodySummary(_ body: ByteBuffer) -> String {
        let text = String(buffer: body)
        let line = text.prefix(200).map { $0.isNewline ? " " : $0 }
        return String(line)
    }

    /// Parses `Retry-After`: delay seconds, or an IMF-fixdate (RFC 9110) measured from now.
    static func parseRetryAfter(_ value: String?) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Int(value), seconds >= 0 { return .seconds(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        let delay = max(0, date.timeIntervalSinceNow)
        return .milliseconds(Int64(delay * 1000))
    }
}
