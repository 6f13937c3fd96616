import ArgumentParser
import Foundation
import Kafka

/// Measures the Kafka binding's produce and consume throughput against a broker.
@main
struct KafkaBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka-bench",
        abstract: "Produce or consume throughput of the Swift Kafka binding (see scripts/bench-kafka and scripts/bench-worker).",
        subcommands: [Produce.self, Consume.self, CreateTopic.self, Latency.self]
    )

    /// `kafka-bench produce`: sends records of a fixed size and waits for every acknowledgement.
    struct Produce: AsyncParsableCommand {
        @Option(help: "Broker list, host:port.") var brokers: String
        @Option(help: "Topic to write.") var topic: String
        @Option(help: "Records to send.") var count = 1_000_000
        @Option(help: "Value size in bytes.") var size = 200
        @Option(help: "Records per send call.") var batch = 10_000
        @Option(help: "Send calls in flight at once.") var concurrency = 4

        func run() async throws {
            var configuration = KafkaConfiguration(bootstrapServers: brokers)
            configuration["acks"] = "all"
            configuration["linger.ms"] = "5"
            let producer = try KafkaProducer(configuration: configuration)
            let value = [UInt8](repeating: UInt8(ascii: "x"), count: size)
            let record = ProducerRecord(topic: topic, key: nil, value: value)
            let chunks = stride(from: 0, to: count, by: batch).map { min(batch, count - $0) }
            let clock = ContinuousClock()
            let start = clock.now
            let failures = try await withThrowingTaskGroup(of: Int.self) { group in
                var next = 0
                var failures = 0
                for _ in 0..<min(concurrency, chunks.count) {
                    let n = chunks[next]
                    next += 1
                    group.addTask { try await producer.send(Array(repeating: record, count: n)).filter { (try? $0.get()) == nil }.count }
                }
                while let failed = try await group.next() {
                    failures += failed
                    if next < chunks.count {
                        let n = chunks[next]
                        next += 1
                        group.addTask { try await producer.send(Array(repeating: record, count: n)).filter { (try? $0.get()) == nil }.count }
                    }
                }
                return failures
            }
            let elapsed = clock.now - start
            await producer.close()
            report("produce", count: count, size: size, elapsed: elapsed, failures: failures)
        }
    }

    /// `kafka-bench consume`: reads a topic from the start until `count` records have arrived.
    struct Consume: AsyncParsableCommand {
        @Option(help: "Broker list, host:port.") var brokers: String
        @Option(help: "Topic to read.") var topic: String
        @Option(help: "Records to read.") var count = 1_000_000

        func run() async throws {
            var configuration = KafkaConfiguration(bootstrapServers: brokers)
            configuration.groupID = "kafka-bench-\(UUID().uuidString)"
            configuration["auto.offset.reset"] = "earliest"
            let consumer = try KafkaConsumer(configuration: configuration)
            try consumer.subscribe(topics: [topic])
            let clock = ContinuousClock()
            var start: ContinuousClock.Instant?
            var received = 0
            var bytes = 0
            for try await event in consumer.events {
                guard case .records(let records) = event else { continue }
                if start == nil { start = clock.now }
                received += records.count
                for record in records { bytes += record.value?.count ?? 0 }
                if received >= count { break }
            }
            let elapsed = clock.now - (start ?? clock.now)
            await consumer.close()
            report("consume", count: received, size: count > 0 ? bytes / max(received, 1) : 0, elapsed: elapsed, failures: 0)
        }
    }
}

extension KafkaBench {
    /// `kafka-bench create-topic`: creates a topic with a number of partitions.
    struct CreateTopic: AsyncParsableCommand {
        @Option(help: "Broker list, host:port.") var brokers: String
        @Option(help: "Topic to create.") var topic: String
        @Option(help: "Partitions.") var partitions: Int32 = 1

        func run() async throws {
            let admin = try KafkaAdmin(configuration: KafkaConfiguration(bootstrapServers: brokers))
            defer { admin.close() }
            try await admin.createTopics([NewTopic(name: topic, partitions: partitions)], ignoreExisting: true)
        }
    }

    /// `kafka-bench latency`: waits until `count` records are in the output topic, then prints throughput and the
    /// end-to-end latency (output timestamp minus the timestamp of the input record with the same key).
    struct Latency: AsyncParsableCommand {
        @Option(help: "Broker list, host:port.") var brokers: String
        @Option(help: "The input topic.") var input: String
        @Option(help: "The output topic.") var output: String
        @Option(help: "Records expected in each.") var count: Int
        @Option(help: "When the measured run started (milliseconds since 1970), for the overall rate.") var startedMs: Int64?

        func run() async throws {
            let outputs = try await timestamps(output)
            let inputs = try await timestamps(input)
            var latencies: [Int64] = []
            latencies.reserveCapacity(outputs.count)
            for (key, produced) in outputs {
                if let consumed = inputs[key] { latencies.append(produced - consumed) }
            }
            latencies.sort()
            func percentile(_ p: Double) -> Int64 {
                latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
            }
            let first = outputs.values.min() ?? 0
            let last = outputs.values.max() ?? 0
            let start = startedMs ?? first
            let rate = Double(outputs.count) / max(Double(last - start) / 1000, 0.001)
            print(String(
                format: "%d outputs, %.0f events/s overall (%.1f s from start to last output); latency p50 %d ms, p99 %d ms, max %d ms",
                outputs.count, rate, Double(last - start) / 1000, percentile(0.5), percentile(0.99), latencies.last ?? 0))
        }

        /// Each key's record timestamp (the last one for a key seen twice), reading `count` records from the start.
        private func timestamps(_ topic: String) async throws -> [String: Int64] {
            var configuration = KafkaConfiguration(bootstrapServers: brokers)
            configuration.groupID = "kafka-bench-\(UUID().uuidString)"
            configuration["auto.offset.reset"] = "earliest"
            configuration["isolation.level"] = "read_committed"
            let consumer = try KafkaConsumer(configuration: configuration)
            try consumer.subscribe(topics: [topic])
            var result: [String: Int64] = [:]
            var received = 0
            for try await event in consumer.events {
                guard case .records(let records) = event else { continue }
                for record in records {
                    if let timestamp = record.timestampMilliseconds { result[String(decoding: record.key ?? [], as: UTF8.self)] = timestamp }
                }
                received += records.count
                if received >= count { break }
            }
            await consumer.close()
            return result
        }
    }
}

/// Prints one result line: records/s and MB/s.
func report(_ what: String, count: Int, size: Int, elapsed: Duration, failures: Int) {
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let rate = Double(count) / max(seconds, 1e-9)
    let megabytes = rate * Double(size) / 1_000_000
    print(String(format: "swift %@: %d records in %.2f s = %.0f records/s (%.1f MB/s), %d failed", what, count, seconds, rate, megabytes, failures))
}
