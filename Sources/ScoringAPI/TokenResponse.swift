/// The token endpoint's answer `{"access_token", "expires_in", "token_type"}`.
public struct TokenResponse: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The bearer token.
    public var accessToken: String
    /// Lifetime in seconds (about an hour).
    public var expiresIn: Int?
    /// Normally `Bearer`.
    public var tokenType: String?

    /// Creates an answer.
    public init(accessToken: String, expiresIn: Int?, tokenType: String?) {
        self.accessToken = accessToken
        self.expiresIn = expiresIn
        self.tokenType = tokenType
    }

    /// Redacted: never shows the token.
    public var description: String { "TokenResponse(access_token: ***, expires_in: \(expiresIn.map(String.init) ?? "nil"))" }

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token"
        case expiresIn = "expires_in"
        case tokenType = "token_type"
    }
}

extension TokenResponse: JSONTreeReadable {
    init(reading object: JSONTreeReader) throws(ScoringError) {
        accessToken = try object.requiredString("access_token")
        expiresIn = try object.int("expires_in")
        tokenType = try object.string("token_type")
    }
}
