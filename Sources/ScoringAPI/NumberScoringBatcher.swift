
/// Gathers concurrent single-number lookups into number scoring requests (up to `maxBatchSize` distinct msisdns,
/// waiting at most `maxLinger` after the first) and hands each caller its own record.
public actor NumberScoringBatcher<C: Clock> where C.Duration == Duration {
    private typealias Waiter = CheckedContinuation<Result<NumberScoringRecord, ScoringError>, Never>

    private let client: NumberScoringClient
    private let maxBatchSize: Int
    private let maxLinger: Duration
    private let clock: C
    private var waiters: [String: [Waiter]] = [:]
    private var order: [PhoneNumber] = []
    private var generation: UInt64 = 0
    private var lingerTask: Task<Void, Never>?
    private var sentRequests = 0

    /// Creates a batcher; defaults are 50 msisdns per request and 5 ms of linger (zero: each number sent at once).
    public init(
        client: NumberScoringClient, maxBatchSize: Int = 50, maxLinger: Duration = .milliseconds(5), clock: C
    ) {
        self.client = client
        self.maxBatchSize = max(1, maxBatchSize)
        self.maxLinger = maxLinger
        self.clock = clock
    }

    /// How many distinct msisdns wait for the next request.
    public var pendingCount: Int { order.count }

    /// How many callers wait for the next request (several may wait for the same msisdn).
    public var waitingCount: Int { waiters.values.reduce(0) { $0 + $1.count } }

    /// How many requests this batcher has sent.
    public var requestCount: Int { sentRequests }

    /// Looks up one number; concurrent calls share requests, and the same msisdn asked twice is sent once.
    public func lookup(_ number: PhoneNumber) async throws(ScoringError) -> NumberScoringRecord {
        let result = await withCheckedContinuation { (waiter: Waiter) in
            enqueue(number, waiter)
        }
        return try result.get()
    }

    /// Looks up one number in a request of its own, now (after a batch it was in failed as a whole).
    public func lookupAlone(_ number: PhoneNumber) async throws(ScoringError) -> NumberScoringRecord {
        sentRequests += 1
        return try await client.lookup([number]).result(for: number.msisdn).get()
    }

    /// Sends whatever is pending now, without waiting for the linger.
    public func flush() {
        guard !order.isEmpty else { return }
        let batch = order
        let batchWaiters = waiters
        order = []
        waiters = [:]
        generation &+= 1
        lingerTask?.cancel()
        lingerTask = nil
        sentRequests += 1
        let client = self.client
        let request = UInt64(sentRequests)
        Task {
            let outcome: Result<NumberScoringBatchResult, ScoringError>
            do throws(ScoringError) {
                outcome = .success(try await client.lookup(batch))
            } catch {
                // The whole request failed: every number of a batch of several carries the request, so that it counts
                // once, and each can be asked again alone.
                var failure = error
                if batch.count > 1 { failure.batch = request }
                outcome = .failure(failure)
            }
            for (msisdn, list) in batchWaiters {
                let result: Result<NumberScoringRecord, ScoringError>
                switch outcome {
                case .success(let answer): result = answer.result(for: msisdn)
                case .failure(let error): result = .failure(error)
                }
                for waiter in list { waiter.resume(returning: result) }
            }
        }
    }

    private func enqueue(_ number: PhoneNumber, _ waiter: Waiter) {
        let msisdn = number.msisdn
        if waiters[msisdn] != nil {
            waiters[msisdn, default: []].append(waiter)
            return
        }
        waiters[msisdn] = [waiter]
        order.append(number)
        if order.count >= maxBatchSize || maxLinger <= .zero {
            flush()
        } else if lingerTask == nil {
            let expected = generation
            let clock = self.clock
            let linger = self.maxLinger
            lingerTask = Task {
                do {
                    try await clock.sleep(for: linger)
                } catch {
                    return
                }
                self.lingerElapsed(generation: expected)
            }
        }
    }

    private func lingerElapsed(generation expected: UInt64) {
        guard expected == generation else { return }
        lingerTask = nil
        flush()
    }
}

extension NumberScoringBatcher where C == ContinuousClock {
    /// Creates a batcher on the continuous clock.
    public init(client: NumberScoringClient, maxBatchSize: Int = 50, maxLinger: Duration = .milliseconds(5)) {
        self.init(client: client, maxBatchSize: maxBatchSize, maxLinger: maxLinger, clock: ContinuousClock())
    }
}
