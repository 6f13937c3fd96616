import Foundation
import Synchronization

/// A wall clock for tests: it says what the test sets, nothing else.
public final class TestTime: Sendable {
    private let current: Mutex<Date>

    /// A test time starting at `start`.
    public init(_ start: Date = Date(timeIntervalSince1970: 1_750_000_000)) {
        current = Mutex(start)
    }

    /// The current test time.
    public var now: Date { current.withLock { $0 } }

    /// A closure reading the current test time, to inject into stores.
    public var closure: @Sendable () -> Date { { self.now } }

    /// Sets the time.
    public func set(_ date: Date) {
        current.withLock { $0 = date }
    }
}
