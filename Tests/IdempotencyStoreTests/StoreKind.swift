import FixtureTestSupport
import Foundation
import PostgresTestSupport
import Testing
@testable import IdempotencyStore

/// The store implementations the shared store suite runs against.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres
    /// SQLite behind ``BatchedIdempotencyStore``, as `risk-worker run` uses it.
    case batched

    var testDescription: String { rawValue }

    /// A fresh, empty store of this kind (a new SQLite file or a new PostgreSQL database) and a cleanup.
    func makeStore(now: @escaping @Sendable () -> Date, purgeChunk: Int? = nil) async throws -> (store: any IdempotencyStore, cleanup: @Sendable () async -> Void) {
        switch self {
        case .sqlite:
            let directory = try TemporaryDirectory()
            let store = try await SQLiteIdempotencyStore.open(
                path: directory.file("store.sqlite"), now: now,
                purgeChunk: purgeChunk ?? SQLiteIdempotencyStore.defaultPurgeChunk
            )
            return (store, {
                try? await store.close()
                directory.remove()
            })
        case .batched:
            let (store, cleanup) = try await StoreKind.sqlite.makeStore(now: now, purgeChunk: purgeChunk)
            return (BatchedIdempotencyStore(store), cleanup)
        case .postgres:
            let server = try await PostgresServer.shared()
            let database = try await server.createDatabase()
            guard case .postgres(let postgresSettings) = try IdempotencyStoreLocation.parse(server.url(database: database) + "?sslmode=disable") else {
                throw IdempotencyStoreError.unsupported("expected a postgres location")
            }
            let store = try await PostgresIdempotencyStore.connect(
                settings: postgresSettings, now: now,
                purgeChunk: purgeChunk ?? PostgresIdempotencyStore.defaultPurgeChunk
            )
            return (store, { try? await store.close() })
        }
    }

    /// Runs `body` with a fresh store of this kind and cleans up afterwards, also when `body` throws.
    func withStore(
        now: @escaping @Sendable () -> Date, purgeChunk: Int? = nil,
        _ body: (any IdempotencyStore) async throws -> Void
    ) async throws {
        let (store, cleanup) = try await makeStore(now: now, purgeChunk: purgeChunk)
        do {
            try await body(store)
            await cleanup()
        } catch {
            await cleanup()
            throw error
        }
    }
}
