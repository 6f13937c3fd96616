import NIOCore

/// Conversion of Swift durations to NIO time amounts.
extension Duration {
    /// The duration as a NIO `TimeAmount` (nanosecond precision, saturating).
    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        let (secondsNanos, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return .nanoseconds(seconds < 0 ? Int64.min : Int64.max) }
        return .nanoseconds(secondsNanos &+ attoseconds / 1_000_000_000)
    }
}
