import Synchronization

/// The sandbox's mutable state (stats, issued tokens, mode) behind one `Mutex`; each request takes it once.
final class SandboxState: Sendable {
    private struct Inner {
        var stats = SandboxStats()
        var tokens: [String: ContinuousClock.Instant] = [:]
    }

    private let inner = Mutex(Inner())

    /// A copy of the stats.
    func snapshot() -> SandboxStats {
        inner.withLock { $0.stats }
    }

    /// Clears counters and the mode (issued tokens stay valid).
    func reset() {
        inner.withLock { $0.stats = SandboxStats() }
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

    /// Counts an accepted number scoring request; returns each msisdn's call ordinal and the mode.
    func recordNumberScoring(msisdns: [String]) -> (calls: [Int], mode: SandboxMode) {
        inner.withLock { state in
            state.stats.totals.numberScoringRequests += 1
            state.stats.totals.numberScoringMsisdns += msisdns.count
            var calls: [Int] = []
            calls.reserveCapacity(msisdns.count)
            for msisdn in msisdns {
                let call = (state.stats.numberScoringByMsisdn[msisdn] ?? 0) + 1
                state.stats.numberScoringByMsisdn[msisdn] = call
                calls.append(call)
            }
            return (calls, state.stats.mode)
        }
    }
}
