/// A token bucket of up to `perSecond` tokens, refilled at `perSecond` a second, counted in billionths of a token.
struct AllowanceBucket: Sendable, Hashable {
    private static let scale: Int64 = 1_000_000_000

    /// Tokens added per second, and the most the bucket holds.
    let perSecond: Int
    private var billionths: Int64
    private var updated: Duration

    /// A full bucket at `now`.
    init(perSecond: Int, now: Duration) {
        self.perSecond = perSecond
        billionths = Int64(perSecond) * Self.scale
        updated = now
    }

    /// Takes up to `count` whole tokens at `now`; returns how many it took.
    mutating func take(upTo count: Int, now: Duration) -> Int {
        refill(now)
        let taken = min(count, Int(billionths / Self.scale))
        billionths -= Int64(taken) * Self.scale
        return taken
    }

    /// The whole seconds (at least 1) until one token is back.
    var secondsUntilNextToken: Int {
        let missing = max(0, Self.scale - billionths)
        let nanoseconds = (missing + Int64(perSecond) - 1) / Int64(perSecond)
        return max(1, Int((nanoseconds + Self.scale - 1) / Self.scale))
    }

    private mutating func refill(_ now: Duration) {
        guard now > updated else { return }
        // A second refills the bucket from empty, so a longer gap adds nothing more (and cannot overflow).
        let elapsed = min(now - updated, .seconds(1))
        updated = now
        let nanoseconds = elapsed.components.seconds * Self.scale + elapsed.components.attoseconds / Self.scale
        billionths = min(Int64(perSecond) * Self.scale, billionths + nanoseconds * Int64(perSecond))
    }
}
