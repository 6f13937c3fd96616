import Foundation
import SQLiteNIO
import Testing
@testable import RiskPipeline

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

    @Test func twoStoresOnOneFileShareTheEntries() async throws {
        // Two connections (as after a restart that overlaps the old process' exit) see each other's commits.
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("shared.sqlite")
        async let openA = SQLiteIdempotencyStore.open(path: path)
        async let openB = SQLiteIdempotencyStore.open(path: path)
        let (a, b) = try await (openA, openB)
        try await a.savePhoneRisk(externalId: "evt-1", json: Array("{}".utf8), partial: false)
        #expect(try await b.lookup(externalId: "evt-1")?.phoneRisk == Array("{}".utf8))
        try await a.close()
        try await b.close()
    }

    @Test func openingInAMissingDirectoryFails() async throws {
        await #expect(throws: (any Error).self) {
            _ = try await SQLiteIdempotencyStore.open(path: "/nonexistent-\(UUID().uuidString)/store.sqlite")
        }
    }
}
