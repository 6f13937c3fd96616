// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "risk-worker",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "risk-worker", targets: ["risk-worker"]),
        .executable(name: "scoring-sim", targets: ["scoring-sim"]),
        .library(name: "Kafka", targets: ["Kafka"]),
        .library(name: "ScoringAPI", targets: ["ScoringAPI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.24.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.21.0"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.10.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.29.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.10.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.0.0"),
    ],
    targets: [
        // librdkafka, found through pkg-config (scripts/bootstrap installs 2.8.0 where the system's is older than 2.2).
        .systemLibrary(
            name: "Crdkafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        .target(
            name: "Kafka",
            dependencies: [
                "Crdkafka",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            // SwiftPM drops the rpath of rdkafka.pc; scripts/bootstrap installs librdkafka here when the
            // system's is too old, and the binaries must load that copy, not the older one.
            linkerSettings: [.unsafeFlags(["-Xlinker", "-rpath", "-Xlinker", "/usr/local/lib"])]
        ),
        .target(
            name: "ScoringAPI",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .target(
            name: "ScoringSimulator",
            dependencies: [
                "ScoringAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The topics' contract as pure values: input event and validation, scored-event encoder, dead letters.
        .target(
            name: "RiskEvents",
            dependencies: ["Kafka", "ScoringAPI"]
        ),
        // Provider results per externalId: the store protocol, SQLite and PostgreSQL, batching, retention.
        .target(
            name: "IdempotencyStore",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // What the worker does with a failure: the error policy's classes, the retry schedules, throttling signals.
        .target(
            name: "RiskPolicy",
            dependencies: ["RiskEvents"]
        ),
        // The running worker: provider health, scoring, ordering, emitting, the session, observability.
        .target(
            name: "RiskPipeline",
            dependencies: [
                "Kafka",
                "ScoringAPI",
                "RiskEvents",
                "RiskPolicy",
                "IdempotencyStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // Reading the dead-letter topic (scan, filters, listing, stats) and replaying it.
        .target(
            name: "DeadLetterTools",
            dependencies: [
                "Kafka",
                "RiskEvents",
                "ScoringAPI",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The demo's event generator, its failing numbers taken from the simulator's fault table.
        .target(
            name: "SampleEvents",
            dependencies: ["RiskEvents", "ScoringAPI", "ScoringSimulator"]
        ),
        // Every command's settings: the only place that knows environment-variable names.
        .target(
            name: "Settings",
            dependencies: [
                "Kafka",
                "RiskPipeline",
                "RiskPolicy",
                "IdempotencyStore",
                "ScoringAPI",
                .product(name: "Configuration", package: "swift-configuration"),
            ]
        ),
        .executableTarget(
            name: "risk-worker",
            dependencies: [
                "RiskPipeline",
                "RiskEvents",
                "IdempotencyStore",
                "DeadLetterTools",
                "SampleEvents",
                "Settings",
                "Kafka",
                "ScoringAPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "scoring-sim",
            dependencies: [
                "ScoringSimulator",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        .executableTarget(
            name: "kafka-bench",
            dependencies: [
                "Kafka",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/kafka-bench"
        ),
        .executableTarget(
            name: "scoring-bench",
            dependencies: [
                "ScoringAPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/scoring-bench"
        ),
        .target(
            name: "KafkaTestSupport",
            dependencies: [
                "Kafka",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/KafkaTestSupport"
        ),
        .target(
            name: "PostgresTestSupport",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/PostgresTestSupport"
        ),
        .target(name: "ClockTestSupport", path: "Tests/ClockTestSupport"),
        .target(name: "FixtureTestSupport", path: "Tests/FixtureTestSupport"),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka", "KafkaTestSupport"]),
        .testTarget(
            name: "RiskEventsTests",
            dependencies: ["RiskEvents", "ScoringAPI", "Kafka", "FixtureTestSupport"]
        ),
        .testTarget(
            name: "IdempotencyStoreTests",
            dependencies: [
                "IdempotencyStore",
                "PostgresTestSupport",
                "ClockTestSupport",
                "FixtureTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
            ]
        ),
        .testTarget(
            name: "RiskPolicyTests",
            dependencies: ["RiskPolicy", "RiskEvents", "FixtureTestSupport"]
        ),
        .testTarget(
            name: "RiskPipelineTests",
            dependencies: [
                "RiskPipeline",
                "RiskPolicy",
                "Kafka",
                "RiskEvents",
                "IdempotencyStore",
                "ScoringAPI",
                "ScoringSimulator",
                "FixtureTestSupport",
                "ClockTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "DeadLetterToolsTests",
            dependencies: [
                "DeadLetterTools",
                "RiskEvents",
                "Kafka",
                "KafkaTestSupport",
                "ClockTestSupport",
            ]
        ),
        .testTarget(
            name: "SampleEventsTests",
            dependencies: ["SampleEvents", "RiskEvents", "RiskPolicy", "ScoringAPI", "ScoringSimulator"]
        ),
        .testTarget(
            name: "SettingsTests",
            dependencies: [
                "Settings",
                "RiskPipeline",
                "RiskPolicy",
                "ScoringAPI",
                .product(name: "Configuration", package: "swift-configuration"),
            ]
        ),
        // The executables, run as child processes against Tansu, the in-process simulator and PostgreSQL.
        .testTarget(
            name: "RiskWorkerTests",
            dependencies: [
                "risk-worker",
                "RiskPipeline",
                "IdempotencyStore",
                "RiskEvents",
                "SampleEvents",
                "Settings",
                "Kafka",
                "KafkaTestSupport",
                "PostgresTestSupport",
                "ScoringSimulator",
                "ScoringAPI",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ScoringAPITests",
            dependencies: [
                "ScoringAPI",
                "ScoringSimulator",
                "ClockTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "ScoringSimulatorTests",
            dependencies: [
                "ScoringSimulator",
                "ScoringAPI",
                "ClockTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
