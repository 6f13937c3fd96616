/// A bearer token given as is; it cannot be renewed.
public struct StaticAccessToken: AccessTokenSource, CustomStringConvertible {
    private let value: String

    /// Wraps a fixed token.
    public init(_ value: String) {
        self.value = value
    }

    /// The fixed token.
    public func token() async throws(ScoringError) -> String { value }

    /// Always nil: a fixed token cannot be renewed.
    public func renewToken(rejected: String) async throws(ScoringError) -> String? { nil }

    /// Redacted: never shows the token.
    public var description: String { "StaticAccessToken(***)" }
}
