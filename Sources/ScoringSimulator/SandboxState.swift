import Synchronization

/// The sandbox's mutable state (stats, issued tokens, mode, outages, allowance) behind one `Mutex`, taken briefly.
final class SandboxState: Sendable {
    private struct Inner {
        var stats = SandboxStats()
        var tokens: [String: ContinuousClock.Instant] = [:]
        var flow: FlowControl
        var held: [SandboxProvider: Int] = [:]
        /// Bumped whenever a provider's outage is set, cleared or reset, so held requests look again.
        var changes: [SandboxProvider: Int] = [:]
        var nextWait = 0
        var waits: [Int: Wait] = [:]
    }

    /// A request waiting for a change of its provider's outage.
    private enum Wait {
        case registering
        case cancelled
        case waiting(SandboxProvider, CheckedContinuation<Void, Never>)
    }

    /// The sandbox's time, for outage ends, allowance refills and holds.
    let clock: SandboxClock
    private let startOutage: SandboxOutage?
    private let startAllowance: SandboxAllowance
    private let inner: Mutex<Inner>

    /// State that starts with `outage` and `allowance` in force, timed by `clock`.
    init(outage: SandboxOutage? = nil, allowance: SandboxAllowance = SandboxAllowance(), clock: SandboxClock) {
        self.clock = clock
        startOutage = outage
        startAllowance = allowance
        inner = Mutex(Inner(flow: FlowControl(outage: outage, allowance: allowance, now: clock.now())))
    }

    /// A copy of the stats.
    func snapshot() -> SandboxStats {
        inner.withLock { state in
            var stats = state.stats
            for provider in SandboxProvider.allCases {
                stats[refused: provider].heldNow = state.held[provider, default: 0]
            }
            return stats
        }
    }

    /// Clears counters and the mode, and puts back the outage and allowance the sandbox started with (issued tokens stay valid).
    func reset() {
        let now = clock.now()
        let released = inner.withLock { state in
            state.stats = SandboxStats()
            state.flow = FlowControl(outage: startOutage, allowance: startAllowance, now: now)
            return Self.takeWaits(for: SandboxProvider.allCases, &state)
        }
        released.forEach { $0.resume() }
    }

    /// Makes every token issued by `/auth` invalid (the `--token` stays valid).
    func revokeTokens() {
        inner.withLock { $0.tokens.removeAll() }
    }

    /// Sets or clears the forced mode.
    func setMode(_ mode: SandboxMode) {
        inner.withLock { $0.stats.mode = mode }
    }

    /// Counts a refused `/auth` call (status 400 or 401).
    func recordAuthRefused(status: Int) {
        inner.withLock { state in
            state.stats.totals.auth += 1
            if status == 401 { state.stats.totals.unauthorized += 1 } else { state.stats.totals.badRequests += 1 }
        }
    }

    /// Counts an `/auth` call that issued `token`, valid until `expiresAt`.
    func recordAuth(issue token: String, expiresAt: ContinuousClock.Instant) {
        inner.withLock { state in
            state.stats.totals.auth += 1
            state.stats.totals.tokensIssued += 1
            if state.tokens.count > 10_000 {
                let now = ContinuousClock.now
                state.tokens = state.tokens.filter { $0.value > now }
            }
            state.tokens[token] = expiresAt
        }
    }

    /// Whether `token` was issued and has not expired.
    func isIssued(_ token: String, now: ContinuousClock.Instant) -> Bool {
        inner.withLock { state in
            guard let expiry = state.tokens[token] else { return false }
            return expiry > now
        }
    }

    /// Counts a rejected request (401 or 400) on an endpoint.
    func recordRejected(phoneRisk: Bool, status: Int) {
        inner.withLock { state in
            if phoneRisk { state.stats.totals.phoneRisk += 1 } else { state.stats.totals.numberScoringRequests += 1 }
            if status == 401 { state.stats.totals.unauthorized += 1 } else { state.stats.totals.badRequests += 1 }
        }
    }

    /// Counts an injected error.
    func recordInjectedError() {
        inner.withLock { $0.stats.totals.injectedErrors += 1 }
    }

    /// Counts an accepted phone risk call; returns the call's ordinal for this msisdn (1 for the first) and the mode.
    func recordPhoneRisk(msisdn: String, externalId: String?) -> (call: Int, mode: SandboxMode) {
        inner.withLock { state in
            state.stats.totals.phoneRisk += 1
            state.stats.phoneRiskByExternalId[externalId ?? "", default: 0] += 1
            let call = (state.stats.phoneRiskByMsisdn[msisdn] ?? 0) + 1
            state.stats.phoneRiskByMsisdn[msisdn] = call
            return (call, state.stats.mode)
        }
    }

    /// Counts an accepted number scoring request; returns the call ordinal of each of the first `admitted` msisdns and the mode.
    func recordNumberScoring(msisdns: [String], admitted: Int) -> (calls: [Int], mode: SandboxMode) {
        inner.withLock { state in
            state.stats.totals.numberScoringRequests += 1
            state.stats.totals.numberScoringMsisdns += msisdns.count
            var calls: [Int] = []
            calls.reserveCapacity(admitted)
            for msisdn in msisdns.prefix(admitted) {
                let call = (state.stats.numberScoringByMsisdn[msisdn] ?? 0) + 1
                state.stats.numberScoringByMsisdn[msisdn] = call
                calls.append(call)
            }
            return (calls, state.stats.mode)
        }
    }

    // MARK: - outages and allowance

    /// What a scoring request to `provider` meets now; counts it when an outage fails it.
    func gate(_ provider: SandboxProvider) -> FlowControl.Gate {
        let now = clock.now()
        return inner.withLock { state in
            let gate = state.flow.gate(provider, now: now)
            guard gate != .open else { return gate }
            Self.countRequest(provider, &state.stats)
            switch gate {
            case .open: break
            case .unavailable: state.stats[refused: provider].unavailable += 1
            case .drop: state.stats[refused: provider].dropped += 1
            case .hang:
                state.stats[refused: provider].hung += 1
                state.held[provider, default: 0] += 1
            }
            return gate
        }
    }

    /// While `provider` has a `hang` outage: when it ends (nil: when cleared) and the change count to wait on.
    func hold(on provider: SandboxProvider) -> (endsAt: Duration?, change: Int)? {
        let now = clock.now()
        return inner.withLock { state in
            state.flow.hang(on: provider, now: now).map { ($0.endsAt, state.changes[provider, default: 0]) }
        }
    }

    /// Ends a hold counted by `gate`; returns the `Retry-After` to answer with.
    func endHold(on provider: SandboxProvider) -> Int {
        let now = clock.now()
        return inner.withLock { state in
            state.held[provider, default: 0] -= 1
            return state.flow.retryAfter(on: provider, now: now)
        }
    }

    /// Returns once the outage on `provider` changes after change count `change`, or when the task is cancelled.
    func outageChange(on provider: SandboxProvider, after change: Int) async {
        let id = inner.withLock { state in
            state.nextWait += 1
            state.waits[state.nextWait] = .registering
            return state.nextWait
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let waiting = inner.withLock { state -> Bool in
                    if case .cancelled = state.waits[id] {
                        state.waits[id] = nil
                        return false
                    }
                    guard state.changes[provider, default: 0] == change else {
                        state.waits[id] = nil
                        return false
                    }
                    state.waits[id] = .waiting(provider, continuation)
                    return true
                }
                if !waiting { continuation.resume() }
            }
        } onCancel: {
            let continuation = inner.withLock { state -> CheckedContinuation<Void, Never>? in
                switch state.waits[id] {
                case .registering?:
                    state.waits[id] = .cancelled
                    return nil
                case .waiting(_, let continuation)?:
                    state.waits[id] = nil
                    return continuation
                case .cancelled?, nil:
                    return nil
                }
            }
            continuation?.resume()
        }
    }

    /// The outages in force, each with the time it has left.
    func outages() -> [SandboxProvider: SandboxOutage] {
        let now = clock.now()
        return inner.withLock { $0.flow.outages(now: now) }
    }

    /// Sets an outage from now; held requests of its providers look again.
    func setOutage(_ outage: SandboxOutage) {
        let now = clock.now()
        let released = inner.withLock { state in
            Self.takeWaits(for: state.flow.set(outage, now: now), &state)
        }
        released.forEach { $0.resume() }
    }

    /// Clears the outage on `provider`, or on both when nil; held requests of those providers are released.
    func clearOutage(on provider: SandboxProvider?) {
        let released = inner.withLock { state in
            Self.takeWaits(for: state.flow.clearOutage(on: provider), &state)
        }
        released.forEach { $0.resume() }
    }

    /// The allowance in force.
    func allowance() -> SandboxAllowance {
        inner.withLock { $0.flow.allowance }
    }

    /// Sets the allowance from now, with full buckets.
    func setAllowance(_ allowance: SandboxAllowance) {
        let now = clock.now()
        inner.withLock { $0.flow.setAllowance(allowance, now: now) }
    }

    /// Lets up to `count` requests or numbers through the allowance of `provider`; counts what it cut.
    func admit(_ count: Int, to provider: SandboxProvider) -> FlowControl.Admission {
        let now = clock.now()
        return inner.withLock { state in
            let admission = state.flow.admit(count, to: provider, now: now)
            guard admission.admitted < count else { return admission }
            state.stats[refused: provider].throttled += 1
            switch provider {
            case .phoneRisk: state.stats.totals.phoneRisk += 1
            case .numberScoring: state.stats[refused: provider].throttledNumbers += count - admission.admitted
            }
            return admission
        }
    }

    private static func countRequest(_ provider: SandboxProvider, _ stats: inout SandboxStats) {
        switch provider {
        case .phoneRisk: stats.totals.phoneRisk += 1
        case .numberScoring: stats.totals.numberScoringRequests += 1
        }
    }

    /// Marks the outages of `providers` changed and takes the waits to release.
    private static func takeWaits(
        for providers: [SandboxProvider], _ state: inout Inner
    ) -> [CheckedContinuation<Void, Never>] {
        for provider in providers { state.changes[provider, default: 0] += 1 }
        var released: [CheckedContinuation<Void, Never>] = []
        for (id, wait) in state.waits {
            guard case .waiting(let provider, let continuation) = wait, providers.contains(provider) else { continue }
            state.waits[id] = nil
            released.append(continuation)
        }
        return released
    }
}
