import FixtureTestSupport
import Foundation
import NIOPosix
import SQLiteNIO
import Testing
@testable import IdempotencyStore

/// What only the SQLite store does: the file's settings, durability across reopening, schema versions.
@Suite("SQLiteIdempotencyStore")
struct SQLiteIdempotencyStoreTests {
    @Test func entriesSurviveClosingAndReopeningTheFile() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("durable.sqlite")

        let first = try await SQLiteIdempotencyStore.open(path: path)
        try await first.savePhoneRisk(externalId: "evt-1", json: Array("{\"a\":1}".utf8), partial: true)
        try await first.saveNumberScoring(externalId: "evt-1", json: Array("{\"b\":2}".utf8))
        try await first.saveNumberScoring(externalId: "evt-2", json: Array("{\"c\":3}".utf8))
        try await first.markEmitted(externalIds: ["evt-2"])
        try await first.close()

        let second = try await SQLiteIdempotencyStore.open(path: path)
        let one = try #require(try await second.lookup(externalId: "evt-1"))
        #expect(one.phoneRisk == Array("{\"a\":1}".utf8))
        #expect(one.numberScoring == Array("{\"b\":2}".utf8))
        #expect(one.partial)
        #expect(!one.emitted)
        #expect(try await second.lookup(externalId: "evt-2")?.emitted == true)
        try await second.close()
    }

    @Test func theFileUsesWALAndRecordsItsSchemaVersion() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("settings.sqlite")
        let store = try await SQLiteIdempotencyStore.open(path: path)
        try await store.close()

        let raw = try await SQLiteConnection.open(storage: .file(path: path))
        let mode = try await raw.query("PRAGMA journal_mode").first?.columns.first?.data.string
        let version = try await raw.query("PRAGMA user_version").first?.columns.first?.data.integer
        try await raw.close()
        #expect(mode == "wal")
        #expect(version == SQLiteIdempotencyStore.schemaVersion)
    }

    @Test func aVersion1FileIsMigratedWithItsEntries() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("version1.sqlite")
        // The version 1 schema, as the first releases wrote it, with two entries.
        let raw = try await SQLiteConnection.open(storage: .file(path: path))
        _ = try await raw.query(
            """
            CREATE TABLE risk_idempotency (
                external_id TEXT NOT NULL PRIMARY KEY, phone_risk BLOB, number_scoring BLOB,
                partial INTEGER NOT NULL DEFAULT 0, emitted INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL
            ) WITHOUT ROWID
            """)
        _ = try await raw.query("CREATE INDEX risk_idempotency_updated_at ON risk_idempotency (updated_at)")
        _ = try await raw.query(
            "INSERT INTO risk_idempotency VALUES ('evt-1', x'7B7D', NULL, 1, 0, 1750000000000), ('evt-2', x'7B7D', x'5B5D', 0, 1, 1750000001000)")
        _ = try await raw.query("PRAGMA user_version = 1")
        try await raw.close()

        let store = try await SQLiteIdempotencyStore.open(path: path)
        let one = try #require(try await store.lookup(externalId: "evt-1"))
        #expect(one.phoneRisk == Array("{}".utf8) && one.numberScoring == nil && one.partial && !one.emitted)
        #expect(one.updatedAt == Date(timeIntervalSince1970: 1_750_000_000))
        let two = try #require(try await store.lookup(externalId: "evt-2"))
        #expect(two.numberScoring == Array("[]".utf8) && two.emitted)
        // Writes and the retention purge work on the migrated table.
        try await store.saveNumberScoring(externalId: "evt-1", json: Array("{}".utf8))
        #expect(try await store.lookup(externalId: "evt-1")?.isComplete == true)
        #expect(try await store.purgeExpired(olderThan: Date(timeIntervalSince1970: 1_750_000_000.5)) == 0)
        #expect(try await store.purgeExpired(olderThan: Date(timeIntervalSince1970: 1_750_000_001.5)) == 1)
        try await store.close()

        let check = try await SQLiteConnection.open(storage: .file(path: path))
        let version = try await check.query("PRAGMA user_version").first?.columns.first?.data.integer
        let tables = try await check.query("SELECT name, sql FROM sqlite_master WHERE type = 'table'").compactMap { $0.column("name")?.string }
        try await check.close()
        #expect(version == 4)
        #expect(tables.sorted() == ["risk_idempotency", "risk_number_scoring_cache"])
    }

    @Test func aVersion2FileGainsTheClaimAndCacheInPlace() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("version2.sqlite")
        // The version 2 schema, as the previous release wrote it, with one entry.
        let raw = try await SQLiteConnection.open(storage: .file(path: path))
        _ = try await raw.query(
            """
            CREATE TABLE risk_idempotency (
                external_id TEXT NOT NULL UNIQUE, phone_risk BLOB, number_scoring BLOB,
                partial INTEGER NOT NULL DEFAULT 0, emitted INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL
            )
            """)
        _ = try await raw.query("CREATE INDEX risk_idempotency_updated_at ON risk_idempotency (updated_at)")
        _ = try await raw.query("INSERT INTO risk_idempotency VALUES ('evt-1', x'7B7D', NULL, 0, 0, 1750000000000)")
        _ = try await raw.query("PRAGMA user_version = 2")
        try await raw.close()

        let store = try await SQLiteIdempotencyStore.open(path: path)
        let one = try #require(try await store.lookup(externalId: "evt-1"))
        #expect(one.phoneRisk == Array("{}".utf8) && one.claimOwner == nil && one.deadLetteredAt == nil)
        // The claim, the dead-letter mark and the cache work on the migrated file.
        let claimed = try await store.claim(externalId: "evt-1", owner: "a", lease: .seconds(30))
        #expect(claimed.isClaimed(by: "a") && claimed.phoneRisk == Array("{}".utf8))
        try await store.markDeadLettered(externalIds: ["evt-1"])
        #expect(try await store.lookup(externalId: "evt-1")?.deadLetteredAt != nil)
        let cached = CachedNumberScoring(msisdn: "+14155550100", record: Array("{}".utf8), fetchedAt: Date())
        try await store.saveCachedNumberScoring([cached])
        #expect(try await store.cachedNumberScoring(msisdns: ["+14155550100"], fetchedAfter: .distantPast).count == 1)
        try await store.close()

        let check = try await SQLiteConnection.open(storage: .file(path: path))
        let version = try await check.query("PRAGMA user_version").first?.columns.first?.data.integer
        let rows = try await check.query("SELECT count(*) FROM risk_idempotency").first?.columns.first?.data.integer
        try await check.close()
        #expect(version == 4 && rows == 1)
    }

    @Test func aVersion3FileGainsTheClaimsPositionInPlace() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("version3.sqlite")
        // The version 3 schema, as the previous release wrote it, with one entry claimed by "a".
        let raw = try await SQLiteConnection.open(storage: .file(path: path))
        _ = try await raw.query(
            """
            CREATE TABLE risk_idempotency (
                external_id TEXT NOT NULL UNIQUE, phone_risk BLOB, number_scoring BLOB,
                partial INTEGER NOT NULL DEFAULT 0, emitted INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL,
                claim_owner TEXT, claim_expires_at INTEGER, dead_lettered_at INTEGER, number_scoring_fetched_at INTEGER
            )
            """)
        _ = try await raw.query("CREATE INDEX risk_idempotency_updated_at ON risk_idempotency (updated_at)")
        _ = try await raw.query("CREATE TABLE risk_number_scoring_cache (msisdn TEXT PRIMARY KEY, record BLOB NOT NULL, fetched_at INTEGER NOT NULL)")
        _ = try await raw.query("CREATE INDEX risk_number_scoring_cache_fetched_at ON risk_number_scoring_cache (fetched_at)")
        _ = try await raw.query(
            "INSERT INTO risk_idempotency VALUES ('evt-1', x'7B7D', NULL, 0, 0, 1750000000000, 'a', 1750000030000, NULL, NULL)")
        _ = try await raw.query("PRAGMA user_version = 3")
        try await raw.close()

        let store = try await SQLiteIdempotencyStore.open(path: path, now: { Date(timeIntervalSince1970: 1_750_000_040) })
        let one = try #require(try await store.lookup(externalId: "evt-1"))
        #expect(one.isClaimed(by: "a") && one.claimPosition == nil && one.phoneRisk == Array("{}".utf8))
        // The expired claim (no position: it cannot be checked) is taken over with the new record's position.
        let position = InputPosition(topic: "events", partition: 2, offset: 41)
        let taken = try await store.takeOver(ClaimRequest(externalId: "evt-1", position: position), from: one, owner: "b", lease: .seconds(30))
        #expect(taken?.isClaimed(by: "b") == true && taken?.claimPosition == position)
        try await store.close()

        let check = try await SQLiteConnection.open(storage: .file(path: path))
        let version = try await check.query("PRAGMA user_version").first?.columns.first?.data.integer
        try await check.close()
        #expect(version == 4)
    }

    @Test func aFileFromANewerSchemaVersionIsRefused() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("newer.sqlite")
        let raw = try await SQLiteConnection.open(storage: .file(path: path))
        _ = try await raw.query("PRAGMA user_version = 99")
        try await raw.close()

        await #expect(throws: IdempotencyStoreError.self) {
            _ = try await SQLiteIdempotencyStore.open(path: path)
        }
    }

    @Test func storesOpenedAtOnceOnANewFileAllOpenAndShareTheEntries() async throws {
        // Instances started together, or a restart overlapping the old process' exit: two connections open a new
        // file at the same moment (SQLite refuses a concurrent journal mode change at once, without waiting), both
        // open, and each sees the other's commits. Each store has a thread of its own, as in two processes: on a
        // shared pool, a connection waiting for the lock holds a thread the holder of the lock (or another test) may
        // need.
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        for round in 0..<50 {
            let path = directory.file("shared-\(round).sqlite")
            let opened = await withTaskGroup(of: Result<(SQLiteIdempotencyStore, NIOThreadPool), any Error>.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        let threadPool = NIOThreadPool(numberOfThreads: 1)
                        threadPool.start()
                        do {
                            let store = try await SQLiteIdempotencyStore.open(path: path, threadPool: threadPool)
                            return .success((store, threadPool))
                        } catch {
                            try? await threadPool.shutdownGracefully()
                            return .failure(error)
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            let pairs = opened.compactMap { try? $0.get() }
            let stores = pairs.map(\.0)
            for case .failure(let error) in opened { Issue.record(error, "round \(round): an open failed") }
            if let first = stores.first {
                try await first.savePhoneRisk(externalId: "evt-\(round)", json: Array("{}".utf8), partial: false)
                for store in stores.dropFirst() {
                    #expect(try await store.lookup(externalId: "evt-\(round)")?.phoneRisk == Array("{}".utf8))
                }
            }
            for (store, threadPool) in pairs {
                try await store.close()
                try await threadPool.shutdownGracefully()
            }
        }
    }

    @Test func openingInAMissingDirectoryFails() async throws {
        await #expect(throws: (any Error).self) {
            _ = try await SQLiteIdempotencyStore.open(path: "/nonexistent-\(UUID().uuidString)/store.sqlite")
        }
    }
}
