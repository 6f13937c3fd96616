import Foundation
import PostgresNIO
import PostgresTestSupport
import Testing
@testable import IdempotencyStore

/// What only the PostgreSQL store does: instances starting together, sharing entries, failing clearly.
@Suite("PostgresIdempotencyStore")
struct PostgresIdempotencyStoreTests {
    private func settings(database: String) async throws -> PostgresStoreSettings {
        let server = try await PostgresServer.shared()
        guard case .postgres(let settings) = try IdempotencyStoreLocation.parse(server.url(database: database) + "?sslmode=disable") else {
            throw IdempotencyStoreError.unsupported("expected a postgres location")
        }
        return settings
    }

    @Test func instancesStartingAtOnceOnAnEmptyDatabaseAllSucceedAndShareEntries() async throws {
        let server = try await PostgresServer.shared()
        let settings = try await settings(database: try await server.createDatabase())
        let stores = try await withThrowingTaskGroup(of: PostgresIdempotencyStore.self) { group in
            for _ in 0..<4 {
                group.addTask { try await PostgresIdempotencyStore.connect(settings: settings) }
            }
            var stores: [PostgresIdempotencyStore] = []
            for try await store in group { stores.append(store) }
            return stores
        }
        #expect(stores.count == 4)
        try await stores[0].savePhoneRisk(externalId: "evt-1", json: Array("{\"x\":1}".utf8), partial: false)
        try await stores[1].saveNumberScoring(externalId: "evt-1", json: Array("{\"y\":2}".utf8))
        try await stores[2].markEmitted(externalIds: ["evt-1"])
        let seen = try #require(try await stores[3].lookup(externalId: "evt-1"))
        #expect(seen.isComplete)
        #expect(seen.emitted)
        for store in stores { try await store.close() }
    }

    @Test func entriesSurviveReconnecting() async throws {
        let server = try await PostgresServer.shared()
        let settings = try await settings(database: try await server.createDatabase())
        let first = try await PostgresIdempotencyStore.connect(settings: settings)
        try await first.savePhoneRisk(externalId: "evt-9", json: Array("{}".utf8), partial: true)
        try await first.close()
        let second = try await PostgresIdempotencyStore.connect(settings: settings)
        #expect(try await second.lookup(externalId: "evt-9")?.partial == true)
        try await second.close()
    }

    @Test func aTableOfThePreviousSchemaGainsTheClaimAndCacheInPlace() async throws {
        let server = try await PostgresServer.shared()
        let database = try await server.createDatabase()
        // The table as the previous release created it, with one entry.
        let logger = Logger(label: "test")
        let raw = try await PostgresConnection.connect(configuration: server.configuration(database: database), id: 1, logger: logger)
        try await raw.query(
            """
            CREATE TABLE risk_idempotency (
                external_id text PRIMARY KEY, phone_risk bytea, number_scoring bytea,
                partial boolean NOT NULL DEFAULT false, emitted boolean NOT NULL DEFAULT false, updated_at timestamptz NOT NULL
            )
            """, logger: logger)
        try await raw.query(
            "INSERT INTO risk_idempotency VALUES ('evt-1', '\\x7b7d', NULL, false, false, now())", logger: logger)

        let store = try await PostgresIdempotencyStore.connect(settings: try await settings(database: database))
        let entry = try #require(try await store.lookup(externalId: "evt-1"))
        #expect(entry.phoneRisk == Array("{}".utf8) && entry.claimOwner == nil)
        #expect(try await store.claim(externalId: "evt-1", owner: "a", lease: .seconds(30)).isClaimed(by: "a"))
        try await store.saveCachedNumberScoring([CachedNumberScoring(msisdn: "1", record: Array("{}".utf8), fetchedAt: Date())])
        #expect(try await store.cachedNumberScoring(msisdns: ["1"], fetchedAfter: .distantPast).count == 1)
        try await store.close()
        // Connecting again finds every column present and changes nothing.
        let again = try await PostgresIdempotencyStore.connect(settings: try await settings(database: database))
        #expect(try await again.lookup(externalId: "evt-1")?.isClaimed(by: "a") == true)
        try await again.close()

        var columns: [String] = []
        let rows = try await raw.query(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'risk_idempotency' ORDER BY ordinal_position",
            logger: logger)
        for try await name in rows.decode(String.self) { columns.append(name) }
        try await raw.close()
        #expect(columns == [
            "external_id", "phone_risk", "number_scoring", "partial", "emitted", "updated_at",
            "claim_owner", "claim_expires_at", "dead_lettered_at", "number_scoring_fetched_at", "claim_topic", "claim_partition",
            "claim_offset",
        ])
    }

    @Test func manyRowStatementsRunningAtOnceOnTheSameIdsInOtherOrdersNeverDeadlock() async throws {
        // Each statement locks its rows one by one until it ends; two that take the same rows in other orders on two
        // connections deadlock (PostgreSQL aborts one after a second), as a claim renewal and a result save once did.
        let server = try await PostgresServer.shared()
        let store = try await PostgresIdempotencyStore.connect(settings: try await settings(database: try await server.createDatabase()))
        let ids = (0..<300).map { "evt-\($0)" }
        let json = Array("{}".utf8)
        _ = try await store.claim(externalIds: ids, owner: "a", lease: .seconds(60))
        for _ in 0..<15 {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await store.save(ids.map { ProviderResults(externalId: $0, phoneRisk: json) }) }
                group.addTask { try await store.save(ids.reversed().map { ProviderResults(externalId: $0, numberScoring: json) }) }
                group.addTask { _ = try await store.renewClaims(externalIds: ids.shuffled(), owner: "a", lease: .seconds(60)) }
                group.addTask { _ = try await store.claim(externalIds: ids.shuffled(), owner: "a", lease: .seconds(60)) }
                group.addTask { try await store.releaseClaims(externalIds: ids.shuffled().prefix(50).map { $0 }, owner: "b") }
                group.addTask { try await store.markDeadLettered(externalIds: ids.shuffled().prefix(50).map { $0 }) }
                try await group.waitForAll()
            }
        }
        try await store.markEmitted(externalIds: ids.shuffled())
        #expect(try await store.lookup(externalIds: ids).values.filter(\.emitted).count == 300)
        try await store.close()
    }

    @Test func anUnreachableServerFailsWithinTheConnectTimeout() async throws {
        var settings = PostgresStoreSettings(
            host: "127.0.0.1", port: 1, username: "risk", password: "secret-password", database: "none", tls: .disable
        )
        settings.connectTimeout = .seconds(2)
        let clock = ContinuousClock()
        let started = clock.now
        do {
            let store = try await PostgresIdempotencyStore.connect(settings: settings)
            try await store.close()
            Issue.record("connecting to port 1 succeeded")
        } catch {
            #expect(!"\(error)".contains("secret-password"))
        }
        // Bounded, not hanging: generous, as a loaded machine (parallel tests) slows even a refused connection.
        #expect(clock.now - started < .seconds(30))
    }

    @Test func theTestServerIsARealPostgreSQL() async throws {
        let server = try await PostgresServer.shared()
        let connection = try await PostgresConnection.connect(
            configuration: server.configuration(), id: 1, logger: Logger(label: "test")
        )
        var version = ""
        for try await (text) in try await connection.query("SHOW server_version", logger: Logger(label: "test")).decode(String.self) {
            version = text
        }
        try await connection.close()
        #expect(!version.isEmpty)
        #expect(server.host == "127.0.0.1")
    }
}
