import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// The service that deletes idempotency entries (claims included) and cached number-scoring records older than the retention, every `interval`, in its own task so
/// that processing never waits for it (each purge statement deletes a bounded chunk of rows).
public struct IdempotencyRetention<C: Clock>: Service where C.Duration == Duration {
    /// The default retention: 7 days.
    public static var defaultRetention: Duration { .seconds(7 * 24 * 3600) }
    /// The default time between purges: 10 minutes.
    public static var defaultInterval: Duration { .seconds(600) }

    /// The store to purge.
    public let store: any IdempotencyStore
    /// How long an entry is kept after its last write.
    public let retention: Duration
    /// The time between two purges.
    public let interval: Duration
    private let clock: C
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let purged = Counter(label: "risk_idempotency_purged_total")

    /// Creates the service; `clock` paces the purges and `now` gives the wall time the cutoff is computed from.
    public init(
        store: any IdempotencyStore,
        retention: Duration = Self.defaultRetention,
        interval: Duration = Self.defaultInterval,
        clock: C,
        now: @escaping @Sendable () -> Date = { Date() },
        logger: Logger = Logger(label: "risk-worker.idempotency.retention")
    ) {
        self.store = store
        self.retention = retention
        self.interval = interval
        self.clock = clock
        self.now = now
        self.logger = logger
    }

    /// Purges at once and then every `interval` until cancelled or the graceful shutdown begins; a failed purge is
    /// logged and retried at the next interval.
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    _ = await purgeOnce()
                    try await clock.sleep(for: interval)
                }
            }
        } catch is CancellationError {
            return
        }
    }

    /// Deletes the entries last written before `now - retention` and returns how many (0 after a logged failure).
    @discardableResult
    public func purgeOnce() async -> Int {
        let cutoff = Self.cutoff(now: now(), retention: retention)
        do {
            let count = try await store.purgeExpired(olderThan: cutoff)
            purged.increment(by: count)
            if count > 0 {
                logger.info("purged expired idempotency entries", metadata: ["count": "\(count)", "cutoff": "\(cutoff)"])
            }
            return count
        } catch {
            logger.warning("purging expired idempotency entries failed", metadata: ["error": "\(error)"])
            return 0
        }
    }

    /// The oldest write time kept: `now - retention`.
    public static func cutoff(now: Date, retention: Duration) -> Date {
        now.adding(.zero - retention)
    }
}
