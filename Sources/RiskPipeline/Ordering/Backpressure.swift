/// When the consumer pauses fetching because records wait for an in-flight slot: once 4 × `resumeAt` wait, until no
/// more than `resumeAt` do, which is 4 × `maxInFlight` and at least 256 records. librdkafka drops its prefetched
/// records at every pause, and the first records after a resume arrive a fetch later (fetches brought about 5,000
/// records at a time, up to half a second apart, on Tansu): the records still waiting at the resume must last that
/// long, or the work in flight runs dry. Waiting records are small (a few MB at these counts).
struct Backpressure: Sendable, Equatable {
    /// The fewest waiting records at which fetching resumes, whatever `maxInFlight`.
    static let minimumResumeAt = 256

    /// Waiting records that pause fetching.
    let pauseAt: Int
    /// Waiting records at or below which fetching resumes.
    let resumeAt: Int

    /// The thresholds for a worker with `maxInFlight` slots.
    init(maxInFlight: Int) {
        resumeAt = max(Self.minimumResumeAt, 4 * max(1, maxInFlight))
        pauseAt = 4 * resumeAt
    }

    /// Whether fetching should be paused with `waiting` records waiting, given whether it is paused now.
    func pauses(waiting: Int, pausedNow: Bool) -> Bool {
        pausedNow ? waiting > resumeAt : waiting >= pauseAt
    }
}
