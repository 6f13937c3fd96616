/// The outages and allowances in force, as a value that `SandboxState` drives under its lock (times: clock offsets).
struct FlowControl: Sendable {
    /// An outage in force on one provider.
    struct Outage: Sendable, Hashable {
        var kind: SandboxOutage.Kind
        var endsAt: Duration?
        var retryAfter: Int?
    }

    /// What a scoring request meets before it is served.
    enum Gate: Sendable, Hashable {
        /// No outage: serve it.
        case open
        /// Answer 503 with this `Retry-After`.
        case unavailable(retryAfter: Int)
        /// Close the connection without an answer.
        case drop
        /// Hold it without an answer.
        case hang
    }

    /// How many requests or numbers the allowance let through, and the `Retry-After` for the others.
    struct Admission: Sendable, Hashable {
        var admitted: Int
        var retryAfter: Int
    }

    /// The `Retry-After` of an outage without an end or an explicit one.
    static let defaultRetryAfter = 5
    /// The longest a `hang` outage holds a request.
    static let longestHold = Duration.seconds(60)

    private var outages: [SandboxProvider: Outage] = [:]
    private var buckets: [SandboxProvider: AllowanceBucket] = [:]
    /// The allowance in force.
    private(set) var allowance = SandboxAllowance()

    /// The outage and allowance a sandbox starts with, at `now`.
    init(outage: SandboxOutage?, allowance: SandboxAllowance, now: Duration) {
        if let outage { _ = set(outage, now: now) }
        setAllowance(allowance, now: now)
    }

    /// The outage in force on `provider` at `now`; one whose end has come is cleared.
    mutating func outage(on provider: SandboxProvider, now: Duration) -> Outage? {
        guard let outage = outages[provider] else { return nil }
        if let end = outage.endsAt, end <= now {
            outages[provider] = nil
            return nil
        }
        return outage
    }

    /// The outages in force at `now`, each with the time it has left as its duration.
    mutating func outages(now: Duration) -> [SandboxProvider: SandboxOutage] {
        var result: [SandboxProvider: SandboxOutage] = [:]
        for provider in SandboxProvider.allCases {
            guard let outage = outage(on: provider, now: now) else { continue }
            result[provider] = SandboxOutage(
                outage.kind, provider: provider, duration: outage.endsAt.map { $0 - now }, retryAfter: outage.retryAfter)
        }
        return result
    }

    /// What a request to `provider` meets at `now`.
    mutating func gate(_ provider: SandboxProvider, now: Duration) -> Gate {
        guard let outage = outage(on: provider, now: now) else { return .open }
        switch outage.kind {
        case .unavailable: return .unavailable(retryAfter: Self.retryAfter(outage, now: now))
        case .drop: return .drop
        case .hang: return .hang
        }
    }

    /// The `hang` outage on `provider` at `now`, if that is the outage in force.
    mutating func hang(on provider: SandboxProvider, now: Duration) -> Outage? {
        guard let outage = outage(on: provider, now: now), outage.kind == .hang else { return nil }
        return outage
    }

    /// The `Retry-After` for a request to `provider` released from a hold at `now`.
    mutating func retryAfter(on provider: SandboxProvider, now: Duration) -> Int {
        outage(on: provider, now: now).map { Self.retryAfter($0, now: now) } ?? 1
    }

    /// Sets `outage` from `now` on its provider or both; returns the providers whose outage changed.
    mutating func set(_ outage: SandboxOutage, now: Duration) -> [SandboxProvider] {
        let providers = outage.provider.map { [$0] } ?? SandboxProvider.allCases
        for provider in providers {
            outages[provider] = Outage(
                kind: outage.kind, endsAt: outage.duration.map { now + $0 }, retryAfter: outage.retryAfter)
        }
        return providers
    }

    /// Clears the outage on `provider`, or on both when nil; returns the providers whose outage changed.
    mutating func clearOutage(on provider: SandboxProvider?) -> [SandboxProvider] {
        let providers = provider.map { [$0] } ?? SandboxProvider.allCases
        for provider in providers {
            outages[provider] = nil
        }
        return providers
    }

    /// Sets the allowance from `now`, with full buckets.
    mutating func setAllowance(_ allowance: SandboxAllowance, now: Duration) {
        self.allowance = allowance
        buckets = [:]
        for provider in SandboxProvider.allCases where allowance.perSecond(provider) > 0 {
            buckets[provider] = AllowanceBucket(perSecond: allowance.perSecond(provider), now: now)
        }
    }

    /// Lets up to `count` requests (phone risk) or numbers (number scoring) through the allowance of `provider` at `now`.
    mutating func admit(_ count: Int, to provider: SandboxProvider, now: Duration) -> Admission {
        guard var bucket = buckets[provider] else { return Admission(admitted: count, retryAfter: 0) }
        let admitted = bucket.take(upTo: count, now: now)
        buckets[provider] = bucket
        return Admission(admitted: admitted, retryAfter: admitted < count ? bucket.secondsUntilNextToken : 0)
    }

    private static func retryAfter(_ outage: Outage, now: Duration) -> Int {
        if let explicit = outage.retryAfter { return explicit }
        guard let end = outage.endsAt else { return defaultRetryAfter }
        let left = (end - now).components
        return max(1, Int(left.seconds) + (left.attoseconds > 0 ? 1 : 0))
    }
}
