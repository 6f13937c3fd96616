/// The account action a phone risk request evaluates, as the provider spells it.
public enum AccountLifecycleEvent: String, Sendable, Hashable, Codable, CaseIterable {
    /// A new account is being created.
    case create
    /// A user is signing in.
    case signIn = "sign-in"
    /// A transaction is being made.
    case transact
    /// Account details are being updated.
    case update
    /// The account is being deleted.
    case delete
}
