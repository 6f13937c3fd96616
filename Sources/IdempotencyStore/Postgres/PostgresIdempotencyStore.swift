import Foundation
import Logging
import PostgresNIO

/// The shared idempotency store: one PostgreSQL table used by every worker instance of a consumer group.
///
/// It owns a `PostgresClient` (a connection pool) and runs it in a task of its own from ``connect(settings:logger:now:purgeChunk:)``
/// until ``close()``. Every operation is one statement; batches bind their ids as one `text[]`.
public final class PostgresIdempotencyStore: IdempotencyStore {
    /// The table holding the entries.
    public static let tableName = "risk_idempotency"
    /// The key of the advisory lock that serialises schema creation between instances starting at the same time.
    static let schemaLockKey: Int64 = 0x7269_736B_6964_656D  // "riskidem"
    /// The default for the most rows one purge statement deletes.
    public static let defaultPurgeChunk = 5_000

    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let logger: Logger
    private let now: @Sendable () -> Date
    private let purgeChunk: Int

    private init(
        client: PostgresClient, runner: Task<Void, Never>, logger: Logger, now: @escaping @Sendable () -> Date, purgeChunk: Int
    ) {
        self.client = client
        self.runner = runner
        self.logger = logger
        self.now = now
        self.purgeChunk = max(1, purgeChunk)
    }

    /// Connects, creates the table if absent, and returns the store; fails if the database cannot be reached
    /// within `settings.connectTimeout`. `now` gives the time written with each entry and `purgeChunk` the most rows
    /// one purge statement deletes.
    public static func connect(
        settings: PostgresStoreSettings,
        logger: Logger = Logger(label: "risk-worker.idempotency.postgres"),
        now: @escaping @Sendable () -> Date = { Date() },
        purgeChunk: Int = defaultPurgeChunk
    ) async throws -> PostgresIdempotencyStore {
        let client = PostgresClient(configuration: settings.clientConfiguration, backgroundLogger: logger)
        let runner = Task { await client.run() }
        let store = PostgresIdempotencyStore(client: client, runner: runner, logger: logger, now: now, purgeChunk: purgeChunk)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await store.createSchema() }
                group.addTask {
                    try await Task.sleep(for: settings.connectTimeout)
                    throw IdempotencyStoreError.unreachable(
                        "no connection to PostgreSQL at \(settings.redactedURL) within \(settings.connectTimeout)"
                    )
                }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            runner.cancel()
            await runner.value
            throw error
        }
        logger.debug("connected the PostgreSQL idempotency store", metadata: ["url": "\(settings.redactedURL)"])
        return store
    }

    private func createSchema() async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.schemaLockKey))", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS risk_idempotency (
                    external_id text PRIMARY KEY,
                    phone_risk bytea,
                    number_scoring bytea,
                    partial boolean NOT NULL DEFAULT false,
                    emitted boolean NOT NULL DEFAULT false,
                    updated_at timestamptz NOT NULL
                )
                """,
                logger: logger
            )
            try await connection.query(
                "CREATE INDEX IF NOT EXISTS risk_idempotency_updated_at ON risk_idempotency (updated_at)",
                logger: logger
            )
        }
    }

    // MARK: - IdempotencyStore

    /// The stored entry for `externalId`.
    public func lookup(externalId: String) async throws -> StoredScoring? {
        let rows = try await client.query(
            """
            SELECT external_id, phone_risk, number_scoring, partial, emitted, updated_at
            FROM risk_idempotency WHERE external_id = \(externalId)
            """,
            logger: logger
        )
        return try await Self.scorings(from: rows).first
    }

    /// The stored entries for many externalIds, in one statement.
    public func lookup(externalIds: [String]) async throws -> [String: StoredScoring] {
        guard !externalIds.isEmpty else { return [:] }
        let rows = try await client.query(
            """
            SELECT external_id, phone_risk, number_scoring, partial, emitted, updated_at
            FROM risk_idempotency WHERE external_id = ANY(\(externalIds))
            """,
            logger: logger
        )
        var result: [String: StoredScoring] = [:]
        for scoring in try await Self.scorings(from: rows) {
            result[scoring.externalId] = scoring
        }
        return result
    }

    /// Upserts many entries' results, a thousand per statement; a nil result keeps the stored one.
    public func save(_ results: [ProviderResults]) async throws {
        for chunk in ProviderResults.statementChunks(results) {
            try await upsert(chunk)
        }
    }

    private func upsert(_ results: ArraySlice<ProviderResults>) async throws {
        var rows: [String] = []
        var binds = PostgresBindings(capacity: results.count * 5)
        let stamp = now()
        for result in results {
            let first = binds.count + 1
            rows.append("($\(first), $\(first + 1)::bytea, $\(first + 2)::bytea, $\(first + 3), $\(first + 4))")
            binds.append(result.externalId)
            if let phoneRisk = result.phoneRisk { binds.append(ByteBuffer(bytes: phoneRisk)) } else { binds.appendNull() }
            if let numberScoring = result.numberScoring { binds.append(ByteBuffer(bytes: numberScoring)) } else { binds.appendNull() }
            binds.append(result.partial)
            binds.append(stamp)
        }
        try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO risk_idempotency AS r (external_id, phone_risk, number_scoring, partial, updated_at)
                    VALUES \(rows.joined(separator: ", "))
                    ON CONFLICT (external_id) DO UPDATE SET
                        phone_risk = coalesce(EXCLUDED.phone_risk, r.phone_risk),
                        partial = CASE WHEN EXCLUDED.phone_risk IS NULL THEN r.partial ELSE EXCLUDED.partial END,
                        number_scoring = coalesce(EXCLUDED.number_scoring, r.number_scoring),
                        updated_at = EXCLUDED.updated_at
                    """,
                binds: binds),
            logger: logger
        )
    }

    /// Marks existing entries emitted, in one statement (their write time, which retention counts from, is kept).
    public func markEmitted(externalIds: [String]) async throws {
        guard !externalIds.isEmpty else { return }
        try await client.query(
            "UPDATE risk_idempotency SET emitted = true WHERE external_id = ANY(\(externalIds))",
            logger: logger
        )
    }

    /// Deletes entries last written before `cutoff`, at most `purgeChunk` rows per statement; rows locked by
    /// another instance's purge are skipped, so that two instances purging at once do not wait on each other.
    public func purgeExpired(olderThan cutoff: Date) async throws -> Int {
        var total = 0
        while true {
            let rows = try await client.query(
                """
                WITH doomed AS (
                    SELECT external_id FROM risk_idempotency WHERE updated_at < \(cutoff)
                    LIMIT \(purgeChunk) FOR UPDATE SKIP LOCKED
                ), deleted AS (
                    DELETE FROM risk_idempotency r USING doomed WHERE r.external_id = doomed.external_id RETURNING 1
                )
                SELECT count(*)::bigint FROM deleted
                """,
                logger: logger
            )
            var count = 0
            for try await (deleted) in rows.decode(Int64.self) {
                count = Int(deleted)
            }
            total += count
            if count < purgeChunk { return total }
        }
    }

    /// Stops the connection pool and waits for it to finish.
    public func close() async throws {
        runner.cancel()
        await runner.value
    }

    // MARK: - Rows

    private static func scorings(from rows: PostgresRowSequence) async throws -> [StoredScoring] {
        var result: [StoredScoring] = []
        for try await (externalId, phoneRisk, numberScoring, partial, emitted, updatedAt) in rows.decode(
            (String, ByteBuffer?, ByteBuffer?, Bool, Bool, Date).self
        ) {
            result.append(
                StoredScoring(
                    externalId: externalId,
                    phoneRisk: phoneRisk.map { Array($0.readableBytesView) },
                    numberScoring: numberScoring.map { Array($0.readableBytesView) },
                    partial: partial,
                    emitted: emitted,
                    updatedAt: updatedAt
                )
            )
        }
        return result
    }
}
