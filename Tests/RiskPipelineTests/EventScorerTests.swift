import AsyncHTTPClient
import FixtureTestSupport
import Foundation
import IdempotencyStore
import Logging
import RiskEvents
import RiskPipeline
import ScoringAPI
import ScoringSimulator
import Synchronization
import Testing

/// The backoff delays a scorer asked to sleep.
private final class SleepLog: Sendable {
    let delays = Mutex<[Duration]>([])
    var count: Int { delays.withLock { $0.count } }
}

@Suite("Event scorer against scoring-sim")
struct EventScorerTests {
    /// Runs `body` with a scorer wired to an in-process sandbox and a fresh SQLite store; sleeps are recorded, not slept.
    private func withScorer(
        _ body: (EventScorer, ScoringSandbox, any IdempotencyStore, SleepLog) async throws -> Void
    ) async throws {
        let sandbox = ScoringSandbox(configuration: .init(host: "127.0.0.1", port: 0, token: "t0ken", apiKey: "k3y"))
        var logger = Logger(label: "event-scorer-test")
        logger.logLevel = .critical
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try await SQLiteIdempotencyStore.open(path: directory.file("store.sqlite"))
        let http = HTTPClientSettings(poolSize: 8, connectTimeout: .seconds(2)).makeHTTPClient()
        let slept = SleepLog()
        do {
            try await sandbox.withRunning(logger: logger) { baseURL in
                let phoneRisk = PhoneRiskClient(httpClient: http, baseURL: baseURL, tokens: StaticAccessToken("t0ken"), requestTimeout: .seconds(5))
                let batcher = NumberScoringBatcher(
                    client: NumberScoringClient(httpClient: http, baseURL: baseURL, apiKey: "k3y", requestTimeout: .seconds(5)))
                let scorer = EventScorer(
                    providers: .clients(phoneRisk: phoneRisk, numberScoring: batcher),
                    store: store,
                    emitted: EmittedIDs(store: store, logger: logger),
                    health: ProviderHealth(metrics: WorkerMetrics(), logger: logger),
                    sleep: { duration in slept.delays.withLock { $0.append(duration) } }
                )
                try await body(scorer, sandbox, store, slept)
            }
        } catch {
            try? await store.close()
            try? await http.shutdown()
            throw error
        }
        try await store.close()
        try await http.shutdown()
    }

    private func event(_ id: String, _ phone: String) throws -> LifecycleEvent {
        try LifecycleEvent.decode(value: Array(#"{"externalId":"\#(id)","accountLifecycleEvent":"sign-in","phoneNumber":"\#(phone)"}"#.utf8))
    }

    @Test func scoresOnceAndAnswersARepeatFromTheStore() async throws {
        try await withScorer { scorer, sandbox, store, _ in
            let first = try await scorer.score(try event("ev-1", "+436501234567"))
            guard case .scored(let risk, let scoring, let partial, let verified, _) = first else {
                Issue.record("expected scored, got \(first)")
                return
            }
            #expect(!partial)
            #expect(verified)
            #expect(try JSONSerialization.jsonObject(with: Data(risk)) is [String: Any])
            #expect(String(decoding: scoring, as: UTF8.self).contains("436501234567"))
            let stored = try await store.lookup(externalId: "ev-1")
            #expect(stored?.phoneRisk == risk)
            #expect(stored?.numberScoring == scoring)

            let again = try await scorer.score(try event("ev-1", "+436501234567"))
            guard case .scored(let riskAgain, let scoringAgain, _, let verifiedAgain, _) = again else {
                Issue.record("expected scored, got \(again)")
                return
            }
            #expect(!verifiedAgain)  // from the store: the encoder checks it again
            #expect(riskAgain == risk && scoringAgain == scoring)
            #expect(sandbox.stats.phoneRiskByExternalId["ev-1"] == 1)
            #expect(sandbox.stats.numberScoringByMsisdn["436501234567"] == 1)

            try await store.markEmitted(externalIds: ["ev-1"])
            let emitted = try await scorer.score(try event("ev-1", "+436501234567"))
            guard case .alreadyEmitted = emitted else {
                Issue.record("expected alreadyEmitted, got \(emitted)")
                return
            }
            #expect(sandbox.stats.totals.phoneRisk == 1)
        }
    }

    @Test func aPermanentNumberScoringCodeIsADeadLetterAndKeepsThePaidPhoneRisk() async throws {
        try await withScorer { scorer, sandbox, store, _ in
            let outcome = try await scorer.score(try event("ev-5", "+436501999905"))
            guard case .deadLetter(let letter) = outcome else {
                Issue.record("expected a dead letter, got \(outcome)")
                return
            }
            #expect(letter.source == .numberScoring)
            #expect(letter.code == "5")
            #expect(letter.attempts == 1)
            #expect(try await store.lookup(externalId: "ev-5")?.phoneRisk != nil)
            // Scored again (a replay): phone risk is not paid twice.
            _ = try await scorer.score(try event("ev-5", "+436501999905"))
            #expect(sandbox.stats.phoneRiskByExternalId["ev-5"] == 1)
        }
    }

    @Test func aTransientFailureIsRetriedWithBackoffUntilItSucceeds() async throws {
        try await withScorer { scorer, _, _, slept in
            let outcome = try await scorer.score(try event("ev-t", "+436501999912"))
            guard case .scored = outcome else {
                Issue.record("expected scored after retries, got \(outcome)")
                return
            }
            #expect(slept.count >= 2)
        }
    }

    @Test(arguments: [
        ("+436501999903", FailureSource.numberScoring, "3"),
        ("+436501999922", FailureSource.phoneRisk, "501"),
        ("+436501999936", FailureSource.phoneRisk, "http-403"),
    ])
    func accountLevelFailuresPauseInsteadOfDeadLettering(phone: String, source: FailureSource, code: String) async throws {
        try await withScorer { scorer, _, _, _ in
            let outcome = try await scorer.score(try event("ev-a", phone))
            guard case .accountLevel(let gotSource, let gotCode, _) = outcome else {
                Issue.record("expected account-level, got \(outcome)")
                return
            }
            #expect(gotSource == source)
            #expect(gotCode == code)
        }
    }

    @Test func aPermanentPhoneRiskErrorIsADeadLetterWithTheProviderCode() async throws {
        try await withScorer { scorer, _, _, _ in
            let outcome = try await scorer.score(try event("ev-p", "+436501999927"))
            guard case .deadLetter(let letter) = outcome else {
                Issue.record("expected a dead letter, got \(outcome)")
                return
            }
            #expect(letter.source == .phoneRisk)
            #expect(letter.code == "11001")
        }
    }
}
