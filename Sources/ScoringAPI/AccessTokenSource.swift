/// Where the phone risk client gets its bearer token.
public protocol AccessTokenSource: Sendable {
    /// A token believed valid now.
    func token() async throws(ScoringError) -> String
    /// Called after the provider rejected `rejected` with 401: a fresh token to retry with once, or nil when none can be had.
    func renewToken(rejected: String) async throws(ScoringError) -> String?
}
