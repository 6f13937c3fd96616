/// A failure of an idempotency store that is not a database driver error.
public enum IdempotencyStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The database cannot be used as configured (e.g. a newer schema version, WAL refused).
    case unsupported(String)
    /// A stored row cannot be read back.
    case corrupt(String)
    /// The database could not be reached in time.
    case unreachable(String)

    /// A one-line explanation.
    public var description: String {
        switch self {
        case .unsupported(let message): "idempotency store unsupported: \(message)"
        case .corrupt(let message): "idempotency store corrupt: \(message)"
        case .unreachable(let message): "idempotency store unreachable: \(message)"
        }
    }
}
