/// The sandbox's time as offsets since it was made, read from and slept on an injected clock.
struct SandboxClock: Sendable {
    /// The time since the sandbox was made.
    let now: @Sendable () -> Duration
    /// Sleeps until the offset `deadline`; throws when cancelled.
    let sleep: @Sendable (_ deadline: Duration) async throws -> Void

    /// Offsets on `clock`, from its current instant.
    init<C: Clock>(_ clock: C) where C.Duration == Duration {
        let start = clock.now
        now = { start.duration(to: clock.now) }
        sleep = { deadline in try await clock.sleep(until: start.advanced(by: deadline), tolerance: nil) }
    }
}
