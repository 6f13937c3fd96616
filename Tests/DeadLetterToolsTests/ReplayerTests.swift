import ClockTestSupport
import Foundation
import Kafka
import KafkaTestSupport
import RiskEvents
import Synchronization
import Testing
@testable import DeadLetterTools

@Suite("Replayer")
struct ReplayerTests {
    /// A dead-letter topic over two partitions with one dead letter of each kind, and the externalIds by letter.
    ///
    /// | externalId | dlq partition | source | code | failed |
    /// |---|---|---|---|---|
    /// | ns7-old | 0 | number-scoring | 7 | 180 min ago |
    /// | ns7-new | 1 | number-scoring | 7 | 10 min ago |
    /// | ns5 | 0 | number-scoring | 5 | 60 min ago |
    /// | pr503 | 1 | phone-risk | http-503 | 90 min ago |
    /// | pr10019 | 0 | phone-risk | 10019 | 30 min ago |
    /// | bad-phone | 1 | validation | invalid-phone-number | 20 min ago |
    static func populated() async throws -> DeadLetterFixture {
        let fixture = try await DeadLetterFixture.make(deadLetterPartitions: 2, inputPartitions: 2)
        try await fixture.produce([
            fixture.deadLetter(DeadLetterFixture.letter(.numberScoring, "7", minutesAgo: 180), externalId: "ns7-old", inputOffset: 0, partition: 0),
            fixture.deadLetter(DeadLetterFixture.letter(.numberScoring, "7", minutesAgo: 10), externalId: "ns7-new", inputOffset: 1, partition: 1),
            fixture.deadLetter(DeadLetterFixture.letter(.numberScoring, "5", minutesAgo: 60), externalId: "ns5", inputOffset: 2, partition: 0),
            fixture.deadLetter(DeadLetterFixture.letter(.phoneRisk, "http-503", minutesAgo: 90), externalId: "pr503", inputOffset: 3, partition: 1),
            fixture.deadLetter(DeadLetterFixture.letter(.phoneRisk, "10019", minutesAgo: 30), externalId: "pr10019", inputOffset: 4, partition: 0),
            fixture.deadLetter(
                DeadLetter(.invalidValue(code: "invalid-phone-number", "too short"), failedAt: DeadLetterFixture.now.addingTimeInterval(-1200)),
                externalId: "bad-phone", inputOffset: 5, partition: 1,
                value: DeadLetterFixture.event("bad-phone", phone: "+43650")
            ),
        ])
        return fixture
    }

    /// Replays into a fresh topic and returns the summary and the externalIds that arrived there.
    static func replay(
        _ fixture: DeadLetterFixture, _ filter: DeadLetterFilter, dryRun: Bool = false
    ) async throws -> (Replayer.Summary, [String]) {
        let target = try await fixture.broker.createTopic(prefix: "replayed", partitions: 1)
        let replayer = Replayer(
            configuration: fixture.configuration, deadLetterTopic: fixture.deadLetterTopic, filter: filter,
            options: Replayer.Options(targetTopic: target, dryRun: dryRun)
        )
        let summary = try await replayer.run()
        let records = try fixture.records(of: target)
        return (summary, records.map { externalId(of: $0) })
    }

    /// The externalId in a record's value, decoded leniently (validation failures included).
    static func externalId(of record: KafkaRecord) -> String {
        guard let value = record.value, let object = try? JSONSerialization.jsonObject(with: Data(value)) as? [String: Any] else { return "?" }
        return object["externalId"] as? String ?? "?"
    }

    @Test func filtersSelectExactlyTheRightDeadLetters() async throws {
        let fixture = try await Self.populated()
        let now = DeadLetterFixture.now
        let cases: [(String, DeadLetterFilter, Set<String>)] = [
            ("everything but validation", .all, ["ns7-old", "ns7-new", "ns5", "pr503", "pr10019"]),
            ("--code 7", try DeadLetterFilter(codes: ["7"]), ["ns7-old", "ns7-new"]),
            ("--code 7 --code 5", try DeadLetterFilter(codes: ["7", "5"]), ["ns7-old", "ns7-new", "ns5"]),
            ("--code http-5xx", try DeadLetterFilter(codes: ["http-5xx"]), ["pr503"]),
            ("--source phone-risk", try DeadLetterFilter(sources: ["phone-risk"], now: now), ["pr503", "pr10019"]),
            ("--source number-scoring --since 2h", try DeadLetterFilter(sources: ["number-scoring"], since: "2h", now: now), ["ns7-new", "ns5"]),
            ("--since 100m --until 25m", try DeadLetterFilter(sources: [], since: "100m", until: "25m", now: now), ["ns5", "pr503", "pr10019"]),
            ("--partition 1", try DeadLetterFilter(partition: 1), ["ns7-new", "pr503"]),
            ("--partition 0 --from-offset 1 --to-offset 1", try DeadLetterFilter(partition: 0, fromOffset: 1, toOffset: 1), ["ns5"]),
            ("--code 7 --partition 0", try DeadLetterFilter(codes: ["7"], partition: 0), ["ns7-old"]),
            ("--source validation", try DeadLetterFilter(sources: ["validation"], now: now), ["bad-phone"]),
            ("--code 4", try DeadLetterFilter(codes: ["4"]), []),
        ]
        for (name, filter, expected) in cases {
            let (summary, sent) = try await Self.replay(fixture, filter)
            #expect(Set(sent) == expected, "\(name)")
            #expect(sent.count == expected.count, "\(name): each once")
            #expect(summary.sent == expected.count, "\(name)")
        }
    }

    @Test func aDryRunSendsNothingAndSaysWhatItWouldSend() async throws {
        let fixture = try await Self.populated()
        let target = try await fixture.broker.createTopic(prefix: "dry", partitions: 1)
        let replayer = Replayer(
            configuration: fixture.configuration, deadLetterTopic: fixture.deadLetterTopic, filter: try DeadLetterFilter(codes: ["7"]),
            options: Replayer.Options(targetTopic: target, dryRun: true)
        )
        var planned: [Replayer.Planned] = []
        let summary = try await replayer.run(onPlanned: { planned.append($0) })
        #expect(summary.dryRun)
        #expect(summary.matched == 2)
        #expect(summary.wouldSend == 2)
        #expect(summary.sent == 0)
        #expect(Set(planned.map { Self.externalId(of: KafkaRecord(topic: target, partition: 0, offset: 0, key: nil, value: $0.record.value)) }) == ["ns7-old", "ns7-new"])
        #expect(planned.allSatisfy { $0.record.topic == target })
        #expect(summary.description.contains("would send 2 (dry run, nothing sent)"))
        let admin = try KafkaAdmin(configuration: fixture.configuration)
        defer { admin.close() }
        #expect(try await admin.watermarks(TopicPartition(topic: target, partition: 0)).high == 0)
        #expect(try fixture.records(of: target).isEmpty)
    }

    @Test func republishedRecordsKeepKeyValueAndHeadersWithTheReplayCountOneHigher() async throws {
        let fixture = try await DeadLetterFixture.make()
        let traceparent = KafkaHeader(name: "traceparent", text: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        let binary = KafkaHeader(name: "blob", value: [0x00, 0xFF])
        let nullHeader = KafkaHeader(name: "empty", value: nil)
        try await fixture.produce([
            fixture.deadLetter(
                DeadLetterFixture.letter(.numberScoring, "7"), externalId: "first", inputOffset: 0,
                headers: [traceparent, binary, nullHeader]
            ),
            fixture.deadLetter(
                DeadLetterFixture.letter(.numberScoring, "7"), externalId: "again", inputOffset: 1,
                headers: [KafkaHeader(name: DeadLetter.Header.replayCount, text: "2"), traceparent]
            ),
        ])
        let target = try await fixture.broker.createTopic(prefix: "replayed", partitions: 1)
        let summary = try await Replayer(
            configuration: fixture.configuration, deadLetterTopic: fixture.deadLetterTopic, filter: .all,
            options: Replayer.Options(targetTopic: target)
        ).run()
        #expect(summary.sent == 2)

        let records = try fixture.records(of: target)
        try #require(records.count == 2)
        let first = try #require(records.first { Self.externalId(of: $0) == "first" })
        #expect(first.key == Array("key-first".utf8))
        #expect(first.value == DeadLetterFixture.event("first"))
        #expect(first.headers == [traceparent, binary, nullHeader, KafkaHeader(name: DeadLetter.Header.replayCount, text: "1")])

        let again = try #require(records.first { Self.externalId(of: $0) == "again" })
        #expect(again.headers == [traceparent, KafkaHeader(name: DeadLetter.Header.replayCount, text: "3")])
        #expect(!again.headers.contains { DeadLetter.Header.writtenSet.contains($0.name) })

        // Dead-lettered again and replayed again: the count keeps growing.
        let failedAgain = DeadLetterFixture.letter(.numberScoring, "7").record(for: again, topic: fixture.deadLetterTopic)
        #expect(failedAgain.headers.text(DeadLetter.Header.replayCount) == "3")
        try await fixture.produce([failedAgain])
        let secondTarget = try await fixture.broker.createTopic(prefix: "replayed", partitions: 1)
        let onlyLast = try DeadLetterFilter(partition: 0, fromOffset: 2)
        #expect(try await Replayer(
            configuration: fixture.configuration, deadLetterTopic: fixture.deadLetterTopic, filter: onlyLast,
            options: Replayer.Options(targetTopic: secondTarget)
        ).run().sent == 1)
        #expect(try fixture.records(of: secondTarget).map { $0.headers.text(DeadLetter.Header.replayCount) } == ["4"])
    }

    @Test func backOnTheOriginalTopicARecordGoesToItsOriginalPartition() async throws {
        let fixture = try await DeadLetterFixture.make(inputPartitions: 3)
        try await fixture.produce([
            fixture.deadLetter(DeadLetterFixture.letter(.numberScoring, "7"), externalId: "from-2", inputOffset: 0, inputPartition: 2),
            fixture.deadLetter(DeadLetterFixture.letter(.numberScoring, "7"), externalId: "from-1", inputOffset: 0, inputPartition: 1),
            fixture.deadLetter(DeadLetterFixture.letter(.numberScoring, "7"), externalId: "from-9", inputOffset: 0, inputPartition: 9),
        ])
        let summary = try await Replayer(
            configuration: fixture.configuration, deadLetterTopic: fixture.deadLetterTopic, filter: .all,
            options: Replayer.Options(targetTopic: fixture.inputTopic)
        ).run()
        #expect(summary.sent == 3)
        let reader = try CommittedLogReader(bootstrapServers: fixture.broker.bootstrapServers)
        let byPartition = try (0..<3).map { partition in
            try reader.read(topic: fixture.inputTopic, partition: Int32(partition)).committed.map(Self.externalId(of:))
        }
        #expect(byPartition[2].contains("from-2"))
        #expect(byPartition[1].contains("from-1"))
        // Partition 9 does not exist on the topic: that record is placed by its key.
        #expect(byPartition.flatMap { $0 }.sorted() == ["from-1", "from-2", "from-9"])

        let info = try DeadLetter.Info(from: KafkaRecord(
            topic: fixture.deadLetterTopic, partition: 0, offset: 0, key: nil, value: nil,
            headers: fixture.deadLetter(DeadLetterFixture.letter(.phoneRisk, "500"), externalId: "x", inputOffset: 4, inputPartition: 2).headers
        ))
        #expect(Replayer.republished(info, topic: fixture.inputTopic, partitions: 3).partition == 2)
        #expect(Replayer.republished(info, topic: fixture.inputTopic, partitions: 2).partition == nil)
        #expect(Replayer.republished(info, topic: "elsewhere", partitions: 3).partition == nil)
    }

    @Test func oneRunNeverSendsAnOriginalRecordTwice() async throws {
        let fixture = try await DeadLetterFixture.make(deadLetterPartitions: 2)
        // An at-least-once worker dead-lettered input offset 0 twice (once on each DLQ partition).
        try await fixture.produce([
            fixture.deadLetter(DeadLetterFixture.letter(.numberScoring, "7"), externalId: "twice", inputOffset: 0, partition: 0),
            fixture.deadLetter(DeadLetterFixture.letter(.numberScoring, "7"), externalId: "twice", inputOffset: 0, partition: 1),
            fixture.deadLetter(DeadLetterFixture.letter(.numberScoring, "7"), externalId: "once", inputOffset: 1, partition: 1),
        ])
        let (summary, sent) = try await Self.replay(fixture, .all)
        #expect(sent.sorted() == ["once", "twice"])
        #expect(summary.matched == 3)
        #expect(summary.sent == 2)
        #expect(summary.skippedDuplicates == 1)
        #expect(summary.skipped == 1)
        #expect(summary.read == 3)
    }

    @Test func validationFailuresAreReplayedOnlyWhenAskedForByName() async throws {
        let fixture = try await Self.populated()
        let (byCode, sentByCode) = try await Self.replay(fixture, try DeadLetterFilter(codes: ["invalid-phone-number"]))
        #expect(sentByCode.isEmpty)
        #expect(byCode.matched == 1)
        #expect(byCode.skippedValidation == 1)
        #expect(byCode.description.contains("add --source validation"))

        let (all, sentAll) = try await Self.replay(fixture, .all)
        #expect(!sentAll.contains("bad-phone"))
        #expect(all.matched == 6)
        #expect(all.skippedValidation == 1)
        #expect(all.sent == 5)

        let (named, sentNamed) = try await Self.replay(fixture, try DeadLetterFilter(codes: ["invalid-phone-number"], sources: [.validation]))
        #expect(sentNamed == ["bad-phone"])
        #expect(named.skipped == 0)
    }

    @Test func theRateIsKeptOnTheInjectedClock() async throws {
        let fixture = try await DeadLetterFixture.make()
        try await fixture.produce((0..<3).map { index in
            fixture.deadLetter(DeadLetterFixture.letter(.numberScoring, "7"), externalId: "rate-\(index)", inputOffset: Int64(index))
        })
        let target = try await fixture.broker.createTopic(prefix: "paced", partitions: 1)
        let clock = ManualClock()
        let planned = PlannedCount()
        let rate = try #require(Replayer.Rate(parsing: "1/s"))
        let replayer = Replayer(
            configuration: fixture.configuration, deadLetterTopic: fixture.deadLetterTopic, filter: .all,
            options: Replayer.Options(targetTopic: target, rate: rate), clock: clock
        )
        let run = Task { try await replayer.run(onPlanned: { _ in planned.increment() }) }

        // The first record goes at once, then the replayer waits a second on the clock.
        await clock.sleepers(atLeast: 1)
        #expect(planned.value == 1)
        clock.advance(by: .milliseconds(999))
        #expect(clock.sleeperCount == 1)
        #expect(planned.value == 1)
        clock.advance(by: .milliseconds(1))
        await clock.sleepers(atLeast: 1)
        #expect(planned.value == 2)
        clock.advance(by: .seconds(1))
        let summary = try await run.value
        #expect(summary.sent == 3)
        #expect(try fixture.records(of: target).count == 3)
    }

    @Test func ratesAreReadFromText() throws {
        #expect(Replayer.Rate(parsing: "50/s")?.perSecond == 50)
        #expect(Replayer.Rate(parsing: "50")?.perSecond == 50)
        #expect(Replayer.Rate(parsing: "0.5/s")?.perSecond == 0.5)
        #expect(Replayer.Rate(parsing: "120/m")?.perSecond == 2)
        #expect(try #require(Replayer.Rate(parsing: "4/s")).interval == .milliseconds(250))
        for bad in ["", "0/s", "-1/s", "fast", "5/h", "1e3/s", "nan", "inf/s", "/s"] {
            #expect(Replayer.Rate(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test func aDeliveryErrorStopsTheRunAndCountsWhatWasSent() async throws {
        let fixture = try await DeadLetterFixture.make()
        let big = Array(#"{"externalId":"big","accountLifecycleEvent":"sign-in","phoneNumber":"+436501234567","pad":"\#(String(repeating: "x", count: 3000))"}"#.utf8)
        try await fixture.produce([
            fixture.deadLetter(DeadLetterFixture.letter(.numberScoring, "7"), externalId: "a", inputOffset: 0),
            fixture.deadLetter(DeadLetterFixture.letter(.numberScoring, "7"), externalId: "b", inputOffset: 1),
            fixture.deadLetter(DeadLetterFixture.letter(.numberScoring, "7"), externalId: "big", inputOffset: 2, value: big),
            fixture.deadLetter(DeadLetterFixture.letter(.numberScoring, "7"), externalId: "c", inputOffset: 3),
        ])
        let target = try await fixture.broker.createTopic(prefix: "refused", partitions: 1)
        // The producer refuses records over 1000 bytes: the third delivery fails.
        let replayer = Replayer(
            configuration: fixture.configuration(["message.max.bytes": "1000"]), deadLetterTopic: fixture.deadLetterTopic, filter: .all,
            options: Replayer.Options(targetTopic: target, batchSize: 1)
        )
        do {
            _ = try await replayer.run()
            Issue.record("the run succeeded")
        } catch {
            guard case .delivery(let kafkaError) = error.reason else {
                Issue.record("unexpected failure \(error)")
                return
            }
            #expect(kafkaError.name == "MSG_SIZE_TOO_LARGE")
            #expect(error.summary.sent == 2)
            #expect(!error.isUsageError)
        }
        #expect(try fixture.records(of: target).map(Self.externalId(of:)) == ["a", "b"])
    }

    @Test func unknownTopicsAreUsageErrors() async throws {
        let fixture = try await DeadLetterFixture.make()
        let cases: [(dlq: String, target: String)] = [
            ("no-such-dlq-\(UUID())", fixture.inputTopic),
            (fixture.deadLetterTopic, "no-such-input-\(UUID())"),
            (fixture.deadLetterTopic, fixture.deadLetterTopic),
        ]
        for (dlq, target) in cases {
            do {
                _ = try await Replayer(
                    configuration: fixture.configuration, deadLetterTopic: dlq, filter: .all, options: Replayer.Options(targetTopic: target)
                ).run()
                Issue.record("replaying \(dlq) to \(target) ran")
            } catch {
                #expect(error.isUsageError, "\(error)")
                #expect(error.summary.sent == 0)
            }
        }
    }
}

/// A count shared between a replay task and the test.
final class PlannedCount: Sendable {
    private let count = Mutex(0)

    /// The count now.
    var value: Int { count.withLock { $0 } }

    /// Adds one.
    func increment() { count.withLock { $0 += 1 } }
}
