import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import SwiftASN1
import Synchronization
import X509

/// A test CA made in memory and a server certificate it signed for `localhost` and 127.0.0.1, valid for a day.
struct TestPKI: Sendable {
    /// The CA certificate in PEM.
    let caPEM: String
    /// The server's certificate.
    let serverCertificate: NIOSSLCertificate
    /// The server's private key.
    let serverKey: NIOSSLPrivateKey

    init() throws {
        let now = Date()
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName {
            CommonName("risk-worker test CA")
            OrganizationName("risk-worker tests")
        }
        let ca = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(caKey.publicKey),
            notValidBefore: now - 3600, notValidAfter: now + 86_400, issuer: caName, subject: caName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: Certificate.PrivateKey(caKey))
        let serverKey = P256.Signing.PrivateKey()
        let server = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(serverKey.publicKey),
            notValidBefore: now - 3600, notValidAfter: now + 86_400, issuer: caName,
            subject: try DistinguishedName { CommonName("localhost") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([
                    .dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
                ])
            },
            issuerPrivateKey: Certificate.PrivateKey(caKey))
        caPEM = try ca.serializeAsPEM().pemString
        serverCertificate = try NIOSSLCertificate(bytes: Array(server.serializeAsPEM().pemString.utf8), format: .pem)
        self.serverKey = try NIOSSLPrivateKey(bytes: Array(serverKey.pemRepresentation.utf8), format: .pem)
    }
}

/// Runs `body` with the path of a fresh temporary file holding `contents`, and removes the file afterwards.
func withTemporaryFile<T>(_ contents: String, _ body: (String) async throws -> T) async throws -> T {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("scoring-api-\(UUID().uuidString).pem").path
    try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

/// Runs `body` with `httpClient` and always shuts the client down.
func withClient<T>(_ httpClient: HTTPClient, _ body: (HTTPClient) async throws -> T) async throws -> T {
    do {
        let result = try await body(httpClient)
        try await httpClient.shutdown()
        return result
    } catch {
        try? await httpClient.shutdown()
        throw error
    }
}

/// Accepts connections on `listener` while `body` runs, each handled by `handle` in its own task.
private func accepting<Connection: Sendable, T>(
    _ listener: NIOAsyncChannel<Connection, Never>,
    handle: @escaping @Sendable (Connection) async -> Void,
    while body: () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            try await listener.executeThenClose { connections in
                await withDiscardingTaskGroup { handlers in
                    do {
                        for try await connection in connections {
                            handlers.addTask { await handle(connection) }
                        }
                    } catch {
                        // The listener closed or the server is stopping.
                    }
                }
            }
        }
        defer { group.cancelAll() }
        return try await body()
    }
}

/// An HTTP/1.1 server over TLS on 127.0.0.1 with the test PKI's server certificate, answering POSTs by path.
final class TLSTestServer: Sendable {
    /// The port it listens on.
    let port: Int
    private let answers: [String: String]
    private let seen = Mutex<[String]>([])

    private init(port: Int, answers: [String: String]) {
        self.port = port
        self.answers = answers
    }

    /// `https://127.0.0.1:port`.
    var baseURL: String { "https://127.0.0.1:\(port)" }

    /// The requests served, as `METHOD /path`, in order.
    var requests: [String] { seen.withLock { $0 } }

    /// Runs `body` with a server answering each path of `answers` with that JSON (404 for other paths).
    static func withRunning<T>(
        pki: TestPKI, answers: [String: String], _ body: (TLSTestServer) async throws -> T
    ) async throws -> T {
        let context = try NIOSSLContext(
            configuration: .makeServerConfiguration(
                certificateChain: [.certificate(pki.serverCertificate)], privateKey: .privateKey(pki.serverKey)))
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        let server = TLSTestServer(port: listener.channel.localAddress?.port ?? 0, answers: answers)
        return try await accepting(listener, handle: server.serve) { try await body(server) }
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                for try await part in inbound {
                    switch part {
                    case .head(let received):
                        head = received
                    case .body:
                        continue
                    case .end:
                        guard let request = head else { continue }
                        seen.withLock { $0.append("\(request.method) \(request.uri)") }
                        let answer = answers[request.uri]
                        let body = ByteBuffer(string: answer ?? "{}")
                        let headers = HTTPHeaders([
                            ("Content-Type", "application/json"), ("Content-Length", String(body.readableBytes)),
                        ])
                        try await outbound.write(
                            .head(HTTPResponseHead(version: .http1_1, status: answer == nil ? .notFound : .ok, headers: headers)))
                        try await outbound.write(.body(.byteBuffer(body)))
                        try await outbound.write(.end(nil))
                    }
                }
            }
        } catch {
            // A refused handshake or a closed connection: nothing more to serve.
        }
    }
}

/// A small HTTP proxy on 127.0.0.1 that only tunnels `CONNECT host:port` and records what it was asked.
final class ConnectProxy: Sendable {
    /// One `CONNECT` request as received.
    struct Connect: Sendable, Hashable {
        /// The request target, `host:port`.
        let target: String
        /// The `Proxy-Authorization` header, when sent.
        let authorization: String?
    }

    /// The port it listens on.
    let port: Int
    private let requiredAuthorization: String?
    private let accepted = Mutex(0)
    private let connects = Mutex<[Connect]>([])

    private init(port: Int, requiredAuthorization: String?) {
        self.port = port
        self.requiredAuthorization = requiredAuthorization
    }

    /// How many connections were accepted.
    var connectionCount: Int { accepted.withLock { $0 } }

    /// The `CONNECT` requests received, in order.
    var requests: [Connect] { connects.withLock { $0 } }

    /// Runs `body` with a running proxy; with `authorization`, a CONNECT without that `Proxy-Authorization` gets 407.
    static func withRunning<T>(requiring authorization: String? = nil, _ body: (ConnectProxy) async throws -> T) async throws -> T {
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let proxy = ConnectProxy(port: listener.channel.localAddress?.port ?? 0, requiredAuthorization: authorization)
        return try await accepting(listener, handle: proxy.tunnel) { try await body(proxy) }
    }

    private func tunnel(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        accepted.withLock { $0 += 1 }
        do {
            try await connection.executeThenClose { inbound, outbound in
                var client = inbound.makeAsyncIterator()
                var received: [UInt8] = []
                var headerEnd: Int?
                while headerEnd == nil {
                    guard let chunk = try await client.next() else { return }
                    received += chunk.readableBytesView
                    headerEnd = received.firstRange(of: Array("\r\n\r\n".utf8))?.upperBound
                }
                guard let headerEnd else { return }
                let lines = String(decoding: received[..<headerEnd], as: UTF8.self).split(separator: "\r\n")
                let requestLine = lines.first?.split(separator: " ") ?? []
                let authorization = lines.dropFirst().first { $0.lowercased().hasPrefix("proxy-authorization:") }
                    .map { $0.dropFirst("proxy-authorization:".count).trimmingCharacters(in: .whitespaces) }
                guard requestLine.count == 3, requestLine[0] == "CONNECT", let colon = requestLine[1].lastIndex(of: ":"),
                    let targetPort = Int(requestLine[1][requestLine[1].index(after: colon)...])
                else {
                    try await outbound.write(ByteBuffer(string: "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n"))
                    return
                }
                connects.withLock { $0.append(Connect(target: String(requestLine[1]), authorization: authorization)) }
                if let requiredAuthorization, authorization != requiredAuthorization {
                    try await outbound.write(
                        ByteBuffer(string: "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"))
                    return
                }
                let host = String(requestLine[1][..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
                let upstream = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connect(host: host, port: targetPort) { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                        }
                    }
                let early = ByteBuffer(bytes: received[headerEnd...])
                // Straight into executeThenClose: an async channel dropped without it traps (NIOAsyncWriter's check),
                // so nothing that can throw comes between connecting and it.
                try await upstream.executeThenClose { upstreamInbound, upstreamOutbound in
                    try await outbound.write(ByteBuffer(string: "HTTP/1.1 200 Connection established\r\n\r\n"))
                    if early.readableBytes > 0 { try await upstreamOutbound.write(early) }
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            // Server to client; when the server closes, so does the client side.
                            for try await chunk in upstreamInbound { try await outbound.write(chunk) }
                            connection.channel.close(promise: nil)
                        }
                        while let chunk = try await client.next() { try await upstreamOutbound.write(chunk) }
                        group.cancelAll()
                    }
                }
            }
        } catch {
            // A closed connection on either side ends the tunnel.
        }
    }
}
