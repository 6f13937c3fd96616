import Foundation
import NIOSSL

/// CA certificates read from a PEM file, trusted for https in addition to the system's roots.
public struct CACertificateBundle: Sendable, Hashable, CustomStringConvertible {
    /// The file the certificates were read from.
    public let path: String
    /// The certificates, in file order.
    let certificates: [NIOSSLCertificate]

    /// Reads every certificate of the PEM file at `path` now (not at the first connection); errors name the path.
    public init(pemFile path: String) throws(InvalidHTTPSetting) {
        let contents: Data
        do {
            contents = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let reason = (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
            throw InvalidHTTPSetting("CA file \(path) cannot be read: \(reason)")
        }
        try self.init(pem: Array(contents), path: path)
    }

    /// Reads the certificates of PEM text said to come from `path`.
    init(pem bytes: [UInt8], path: String) throws(InvalidHTTPSetting) {
        guard Self.containsPEMCertificate(bytes) else {
            throw InvalidHTTPSetting("CA file \(path) contains no PEM certificate (-----BEGIN CERTIFICATE-----)")
        }
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(bytes)
        } catch {
            throw InvalidHTTPSetting("CA file \(path) is not a valid PEM certificate bundle (\(error))")
        }
        self.path = path
    }

    /// How many certificates the file has.
    public var count: Int { certificates.count }

    /// `path (n certificates)`.
    public var description: String { "\(path) (\(count) certificate\(count == 1 ? "" : "s"))" }

    private static func containsPEMCertificate(_ bytes: [UInt8]) -> Bool {
        bytes.firstRange(of: Array("-----BEGIN CERTIFICATE-----".utf8)) != nil
    }
}
