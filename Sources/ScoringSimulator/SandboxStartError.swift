/// Thrown by `withRunning` when the server stopped before binding.
public struct SandboxStartError: Error, Sendable, CustomStringConvertible {
    /// What happened.
    public var description: String { "the scoring sandbox stopped before it was listening" }
}
