import DequeModule
import IdempotencyStore
import Logging
import Synchronization

/// Whether an externalId's scored event was emitted already: the one place that decides it.
///
/// Two windows answer: the last `limit` externalIds this process emitted (100,000 by default, in memory, lost at a
/// restart), and the store's `emitted` flag, written after each committed cycle and kept until retention purges
/// the entry (7 days by default). The scorer asks before paying for a call; the emitter asks again before
/// producing, since a duplicate may finish while the first is still on its way to the output topic.
public final class EmittedIDs: Sendable {
    private let recent: Mutex<RecentIDs>
    private let store: any IdempotencyStore
    private let logger: Logger

    /// Emitted externalIds remembered in memory (the last `limit`) and marked in `store`.
    public init(store: any IdempotencyStore, limit: Int = 100_000, logger: Logger) {
        self.recent = Mutex(RecentIDs(limit: limit))
        self.store = store
        self.logger = logger
    }

    /// Whether `externalId` was emitted, by this process recently or (`storedAsEmitted`) by any process before.
    public func contains(_ externalId: String, storedAsEmitted: Bool = false) -> Bool {
        storedAsEmitted || recent.withLock { $0.contains(externalId) }
    }

    /// Records the externalIds of a committed cycle: remembered at once, then marked in the store.
    public func record(_ externalIds: [String]) async {
        guard !externalIds.isEmpty else { return }
        recent.withLock { recent in
            for id in externalIds { recent.insert(id) }
        }
        do {
            try await store.markEmitted(externalIds: externalIds)
        } catch {
            // Not fatal: the offsets are committed, so these records are not read again; a later duplicate of one of
            // these externalIds is caught in memory, or after a restart produced again from the stored results (no paid call).
            logger.warning("could not mark scored events as emitted", metadata: ["error": "\(error)", "count": "\(externalIds.count)"])
        }
    }
}

/// The externalIds emitted most recently, oldest forgotten first.
struct RecentIDs {
    private var order: Deque<String> = []
    private var members: Set<String> = []
    let limit: Int

    init(limit: Int) {
        self.limit = max(limit, 1)
    }

    func contains(_ id: String) -> Bool { members.contains(id) }

    mutating func insert(_ id: String) {
        guard members.insert(id).inserted else { return }
        order.append(id)
        if order.count > limit, let oldest = order.popFirst() { members.remove(oldest) }
    }
}
