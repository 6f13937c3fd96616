import Foundation
import Kafka

/// A Kafka broker for tests: `KAFKA_BROKERS` when set, else a Tansu broker started on a free loopback port.
///
/// Tansu runs under a small shell that kills it when the test process's pipe to it closes, so it
/// never outlives the tests, even when they crash.
public final class TestBroker: Sendable {
    /// The broker's `host:port` list.
    public let bootstrapServers: String
    private let process: Process?
    private let keepAlive: Pipe?

    private init(bootstrapServers: String, process: Process?, keepAlive: Pipe?) {
        self.bootstrapServers = bootstrapServers
        self.process = process
        self.keepAlive = keepAlive
    }

    /// The broker shared by every test of this process, started on first use.
    public static func shared() async throws -> TestBroker {
        try await SharedBroker.instance.get()
    }

    /// Settings for a client of this broker, with the timeouts group tests need on Tansu.
    public func configuration(_ properties: [String: String] = [:]) -> KafkaConfiguration {
        var configuration = KafkaConfiguration(bootstrapServers: bootstrapServers)
        configuration.merge(properties)
        return configuration
    }

    /// Consumer settings for group `groupID`: short session and poll intervals, reading from the start.
    public func consumerConfiguration(groupID: String, _ properties: [String: String] = [:]) -> KafkaConfiguration {
        var configuration = self.configuration([
            "group.id": groupID,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": "6000",
            "max.poll.interval.ms": "6000",
            "heartbeat.interval.ms": "500",
            "topic.metadata.refresh.interval.ms": "1000",
        ])
        configuration.merge(properties)
        return configuration
    }

    /// Creates a topic with a unique name starting with `prefix` and returns the name.
    public func createTopic(prefix: String, partitions: Int32) async throws -> String {
        let name = "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
        let admin = try KafkaAdmin(configuration: configuration())
        defer { admin.close() }
        try await admin.createTopics([NewTopic(name: name, partitions: partitions)])
        return name
    }

    /// Starts Tansu on a free port and waits until it accepts connections.
    static func start() async throws -> TestBroker {
        if let brokers = ProcessInfo.processInfo.environment["KAFKA_BROKERS"], !brokers.isEmpty {
            return TestBroker(bootstrapServers: brokers, process: nil, keepAlive: nil)
        }
        let tansu = try tansuPath()
        var lastError: Error?
        for _ in 0..<3 {
            let port = try FreePort.find()
            let address = "127.0.0.1:\(port)"
            let logURL = FileManager.default.temporaryDirectory.appendingPathComponent("tansu-\(port).log")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            // The shell starts Tansu in the background, then waits for its stdin (our pipe) to close.
            process.arguments = [
                "-c", "\"$0\" \"$@\" >\"$LOG\" 2>&1 & pid=$!; trap 'kill -9 $pid 2>/dev/null' EXIT; cat >/dev/null",
                tansu, "broker",
                "--listener-url", "tcp://\(address)",
                "--advertised-listener-url", "tcp://\(address)",
                "--storage-engine", "memory://tansu/",
            ]
            var environment = ProcessInfo.processInfo.environment
            environment["LOG"] = logURL.path
            process.environment = environment
            let keepAlive = Pipe()
            process.standardInput = keepAlive
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let broker = TestBroker(bootstrapServers: address, process: process, keepAlive: keepAlive)
            do {
                try await FreePort.waitUntilListening(port: port, deadline: .now + .seconds(20))
                return broker
            } catch {
                lastError = error
                broker.stop()
            }
        }
        throw TestBrokerError("Tansu did not start: \(lastError.map { "\($0)" } ?? "unknown")")
    }

    /// Stops the broker this object started.
    public func stop() {
        try? keepAlive?.fileHandleForWriting.close()
        process?.waitUntilExit()
    }

    /// The Tansu binary: `TANSU_BIN`, or `.tools/bin/tansu` of this checkout (scripts/bootstrap installs it).
    static func tansuPath() throws -> String {
        if let path = ProcessInfo.processInfo.environment["TANSU_BIN"], !path.isEmpty { return path }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent(".tools/bin/tansu").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestBrokerError("no Tansu at \(path): run scripts/bootstrap, or set KAFKA_BROKERS or TANSU_BIN")
        }
        return path
    }
}

/// The one broker of a test process.
private actor SharedBroker {
    static let instance = SharedBroker()
    private var broker: Task<TestBroker, Error>?

    func get() async throws -> TestBroker {
        if let broker { return try await broker.value }
        let task = Task { try await TestBroker.start() }
        broker = task
        return try await task.value
    }
}

/// Why a test broker could not be had.
public struct TestBrokerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
