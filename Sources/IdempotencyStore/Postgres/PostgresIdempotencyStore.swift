import Foundation
import Logging
import PostgresNIO

/// The shared idempotency store: PostgreSQL tables used by every worker instance of a consumer group (the entries with
/// their claims, and the number-scoring cache).
///
/// The schema is created when absent and brought up to date in place when an earlier release created it (new
/// nullable columns, no row rewritten), under an advisory lock so that instances starting together do it once.
///
/// It owns a `PostgresClient` (a connection pool) and runs it in a task of its own from ``connect(settings:logger:now:purgeChunk:)``
/// until ``close()``. Every operation is one statement; batches bind their ids as one `text[]`.
///
/// A statement holds the row locks it takes until it ends, so two that write the same rows in other orders on two
/// connections deadlock (PostgreSQL aborts one after `deadlock_timeout`). Every statement writing many rows therefore
/// takes them in one order, ascending `external_id` (or `msisdn`) byte by byte (``lockOrder``), so that none can wait
/// on another that waits on it.
public final class PostgresIdempotencyStore: IdempotencyStore {
    /// The table holding the entries.
    public static let tableName = "risk_idempotency"
    /// The key of the advisory lock that serialises schema creation between instances starting at the same time.
    static let schemaLockKey: Int64 = 0x7269_736B_6964_656D  // "riskidem"
    /// The default for the most rows one purge statement deletes.
    public static let defaultPurgeChunk = 5_000
    /// The collation every statement writing many rows orders its keys by before taking their row locks (bytes: the
    /// cheapest comparison, and the same on every server).
    static let lockOrder = "COLLATE \"C\""

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
            // Columns added since the first schema; ALTER only when one is missing, since it locks the table.
            let present = try await connection.query(
                """
                SELECT column_name FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name = 'risk_idempotency'
                """,
                logger: logger
            )
            var columns: Set<String> = []
            for try await name in present.decode(String.self) { columns.insert(name) }
            let missing = Self.addedColumns.filter { !columns.contains($0.name) }
            if !missing.isEmpty {
                let additions = missing.map { "ADD COLUMN IF NOT EXISTS \($0.name) \($0.type)" }.joined(separator: ", ")
                try await connection.query(PostgresQuery(unsafeSQL: "ALTER TABLE risk_idempotency \(additions)"), logger: logger)
            }
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS risk_number_scoring_cache (
                    msisdn text PRIMARY KEY,
                    record bytea NOT NULL,
                    fetched_at timestamptz NOT NULL
                )
                """,
                logger: logger
            )
            try await connection.query(
                "CREATE INDEX IF NOT EXISTS risk_number_scoring_cache_fetched_at ON risk_number_scoring_cache (fetched_at)",
                logger: logger
            )
        }
    }

    /// The columns added to the first schema: the claim, the dead-letter time, the cache origin of the number-scoring
    /// record, and the claim's input position.
    static let addedColumns: [(name: String, type: String)] = [
        ("claim_owner", "text"), ("claim_expires_at", "timestamptz"), ("dead_lettered_at", "timestamptz"),
        ("number_scoring_fetched_at", "timestamptz"), ("claim_topic", "text"), ("claim_partition", "integer"),
        ("claim_offset", "bigint"),
    ]
    /// The entry columns every read returns, in ``scorings(from:)``'s terms.
    static let entryColumns = """
        external_id, phone_risk, number_scoring, partial, emitted, updated_at, claim_owner, claim_expires_at, \
        dead_lettered_at, number_scoring_fetched_at, claim_topic, claim_partition, claim_offset
        """

    // MARK: - IdempotencyStore

    /// The stored entry for `externalId`.
    public func lookup(externalId: String) async throws -> StoredScoring? {
        var binds = PostgresBindings()
        binds.append(externalId)
        let rows = try await client.query(
            PostgresQuery(unsafeSQL: "SELECT \(Self.entryColumns) FROM risk_idempotency WHERE external_id = $1", binds: binds),
            logger: logger
        )
        return try await Self.scorings(from: rows).first
    }

    /// The stored entries for many externalIds, in one statement.
    public func lookup(externalIds: [String]) async throws -> [String: StoredScoring] {
        guard !externalIds.isEmpty else { return [:] }
        var binds = PostgresBindings()
        binds.append(externalIds)
        let rows = try await client.query(
            PostgresQuery(unsafeSQL: "SELECT \(Self.entryColumns) FROM risk_idempotency WHERE external_id = ANY($1)", binds: binds),
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
        var binds = PostgresBindings(capacity: results.count * 6)
        let stamp = now()
        for result in results {
            let first = binds.count + 1
            rows.append(
                "($\(first)::text, $\(first + 1)::bytea, $\(first + 2)::bytea, $\(first + 3)::boolean, $\(first + 4)::timestamptz, "
                    + "$\(first + 5)::timestamptz)")
            binds.append(result.externalId)
            if let phoneRisk = result.phoneRisk { binds.append(ByteBuffer(bytes: phoneRisk)) } else { binds.appendNull() }
            if let numberScoring = result.numberScoring { binds.append(ByteBuffer(bytes: numberScoring)) } else { binds.appendNull() }
            binds.append(result.partial)
            binds.append(stamp)
            if let fetchedAt = result.numberScoringFetchedAt { binds.append(fetchedAt) } else { binds.appendNull() }
        }
        try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO risk_idempotency AS r (external_id, phone_risk, number_scoring, partial, updated_at, number_scoring_fetched_at)
                    SELECT * FROM (VALUES \(rows.joined(separator: ", ")))
                        AS v (external_id, phone_risk, number_scoring, partial, updated_at, number_scoring_fetched_at)
                    ORDER BY v.external_id \(Self.lockOrder)
                    ON CONFLICT (external_id) DO UPDATE SET
                        phone_risk = coalesce(EXCLUDED.phone_risk, r.phone_risk),
                        partial = CASE WHEN EXCLUDED.phone_risk IS NULL THEN r.partial ELSE EXCLUDED.partial END,
                        number_scoring_fetched_at = CASE WHEN EXCLUDED.number_scoring IS NULL THEN r.number_scoring_fetched_at
                            ELSE EXCLUDED.number_scoring_fetched_at END,
                        number_scoring = coalesce(EXCLUDED.number_scoring, r.number_scoring),
                        updated_at = EXCLUDED.updated_at
                    """,
                binds: binds),
            logger: logger
        )
    }

    /// Marks existing entries emitted and ends their claims, in one statement (their write time, which retention
    /// counts from, is kept).
    public func markEmitted(externalIds: [String]) async throws {
        guard !externalIds.isEmpty else { return }
        try await client.query(
            """
            WITH locked AS MATERIALIZED (
                SELECT external_id FROM risk_idempotency WHERE external_id = ANY(\(externalIds))
                ORDER BY external_id \(unescaped: Self.lockOrder) FOR UPDATE
            )
            UPDATE risk_idempotency AS r SET emitted = true, claim_owner = NULL, claim_expires_at = NULL
            FROM locked WHERE r.external_id = locked.external_id
            """,
            logger: logger
        )
    }

    /// Takes claims in one upsert: an entry that is not emitted and not claimed is claimed with the request's position;
    /// `owner`'s own claims get a new expiry and keep their positions; other owners' claims are left as they are. Two
    /// instances claiming one id at once are serialised by its row lock, so exactly one gets it.
    public func claim(_ requests: [ClaimRequest], owner: String, lease: Duration) async throws -> [String: StoredScoring] {
        let unique = ClaimRequest.unique(requests)
        guard !unique.isEmpty else { return [:] }
        let now = self.now()
        var binds = PostgresBindings()
        binds.append(unique.map(\.externalId))
        binds.append(owner)
        binds.append(now.adding(lease))
        binds.append(now)
        // No position: '' and -1, which no record has (arrays of optionals do not bind).
        binds.append(unique.map { $0.position?.topic ?? "" })
        binds.append(unique.map { $0.position?.partition ?? -1 })
        binds.append(unique.map { $0.position?.offset ?? -1 })
        let free = "(NOT r.emitted AND r.claim_owner IS NULL)"
        let rows = try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO risk_idempotency AS r (
                        external_id, claim_owner, claim_expires_at, updated_at, claim_topic, claim_partition, claim_offset)
                    SELECT u.id, $2, $3, $4, NULLIF(u.topic, ''), NULLIF(u.part, -1), NULLIF(u.off, -1)
                    FROM unnest($1::text[], $5::text[], $6::int4[], $7::int8[]) AS u (id, topic, part, off)
                    ORDER BY u.id \(Self.lockOrder)
                    ON CONFLICT (external_id) DO UPDATE SET
                        claim_owner = CASE WHEN \(free) THEN EXCLUDED.claim_owner ELSE r.claim_owner END,
                        claim_expires_at = CASE WHEN \(free) OR (NOT r.emitted AND r.claim_owner = $2)
                            THEN EXCLUDED.claim_expires_at ELSE r.claim_expires_at END,
                        claim_topic = CASE WHEN \(free) THEN EXCLUDED.claim_topic ELSE r.claim_topic END,
                        claim_partition = CASE WHEN \(free) THEN EXCLUDED.claim_partition ELSE r.claim_partition END,
                        claim_offset = CASE WHEN \(free) THEN EXCLUDED.claim_offset ELSE r.claim_offset END
                    RETURNING \(Self.entryColumns)
                    """,
                binds: binds),
            logger: logger
        )
        var result: [String: StoredScoring] = [:]
        for scoring in try await Self.scorings(from: rows) {
            result[scoring.externalId] = scoring
        }
        return result
    }

    /// Takes the claim `previous` showed, in one conditional update.
    public func takeOver(_ request: ClaimRequest, from previous: StoredScoring, owner: String, lease: Duration) async throws -> StoredScoring? {
        let now = self.now()
        let rows = try await client.query(
            """
            UPDATE risk_idempotency SET claim_owner = \(owner), claim_expires_at = \(now.adding(lease)),
                claim_topic = \(request.position?.topic), claim_partition = \(request.position?.partition),
                claim_offset = \(request.position?.offset)
            WHERE external_id = \(request.externalId) AND NOT emitted
                AND claim_owner IS NOT DISTINCT FROM \(previous.claimOwner)
                AND claim_topic IS NOT DISTINCT FROM \(previous.claimPosition?.topic)
                AND claim_partition IS NOT DISTINCT FROM \(previous.claimPosition?.partition)
                AND claim_offset IS NOT DISTINCT FROM \(previous.claimPosition?.offset)
                AND (claim_owner IS NULL OR claim_owner = \(owner) OR claim_expires_at <= \(now))
            RETURNING \(unescaped: Self.entryColumns)
            """,
            logger: logger
        )
        return try await Self.scorings(from: rows).first
    }

    /// Extends `owner`'s claims in one statement.
    public func renewClaims(externalIds: [String], owner: String, lease: Duration) async throws -> Set<String> {
        guard !externalIds.isEmpty else { return [] }
        let rows = try await client.query(
            """
            WITH locked AS MATERIALIZED (
                SELECT external_id FROM risk_idempotency WHERE external_id = ANY(\(externalIds)) AND claim_owner = \(owner)
                ORDER BY external_id \(unescaped: Self.lockOrder) FOR UPDATE
            )
            UPDATE risk_idempotency AS r SET claim_expires_at = \(now().adding(lease))
            FROM locked WHERE r.external_id = locked.external_id AND r.claim_owner = \(owner) RETURNING r.external_id
            """,
            logger: logger
        )
        var held: Set<String> = []
        for try await id in rows.decode(String.self) { held.insert(id) }
        return held
    }

    /// Ends `owner`'s claims in one statement.
    public func releaseClaims(externalIds: [String], owner: String) async throws {
        guard !externalIds.isEmpty else { return }
        try await client.query(
            """
            WITH locked AS MATERIALIZED (
                SELECT external_id FROM risk_idempotency WHERE external_id = ANY(\(externalIds)) AND claim_owner = \(owner)
                ORDER BY external_id \(unescaped: Self.lockOrder) FOR UPDATE
            )
            UPDATE risk_idempotency AS r SET claim_owner = NULL, claim_expires_at = NULL
            FROM locked WHERE r.external_id = locked.external_id AND r.claim_owner = \(owner)
            """,
            logger: logger
        )
    }

    /// Records committed dead letters and ends their claims, in one statement.
    public func markDeadLettered(externalIds: [String]) async throws {
        guard !externalIds.isEmpty else { return }
        try await client.query(
            """
            WITH locked AS MATERIALIZED (
                SELECT external_id FROM risk_idempotency WHERE external_id = ANY(\(externalIds))
                ORDER BY external_id \(unescaped: Self.lockOrder) FOR UPDATE
            )
            UPDATE risk_idempotency AS r SET dead_lettered_at = \(now()), claim_owner = NULL, claim_expires_at = NULL
            FROM locked WHERE r.external_id = locked.external_id
            """,
            logger: logger
        )
    }

    /// The cached records of these numbers fetched after `fetchedAfter`, in one statement.
    public func cachedNumberScoring(msisdns: [String], fetchedAfter: Date) async throws -> [String: CachedNumberScoring] {
        guard !msisdns.isEmpty else { return [:] }
        let rows = try await client.query(
            """
            SELECT msisdn, record, fetched_at FROM risk_number_scoring_cache
            WHERE msisdn = ANY(\(msisdns)) AND fetched_at > \(fetchedAfter)
            """,
            logger: logger
        )
        var result: [String: CachedNumberScoring] = [:]
        for try await (msisdn, record, fetchedAt) in rows.decode((String, ByteBuffer, Date).self) {
            result[msisdn] = CachedNumberScoring(msisdn: msisdn, record: Array(record.readableBytesView), fetchedAt: fetchedAt)
        }
        return result
    }

    /// Upserts cached records in one statement per thousand; a record older than the one kept does not replace it.
    public func saveCachedNumberScoring(_ records: [CachedNumberScoring]) async throws {
        for chunk in CachedNumberScoring.statementChunks(records) {
            var rows: [String] = []
            var binds = PostgresBindings(capacity: chunk.count * 3)
            for record in chunk {
                let first = binds.count + 1
                rows.append("($\(first)::text, $\(first + 1)::bytea, $\(first + 2)::timestamptz)")
                binds.append(record.msisdn)
                binds.append(ByteBuffer(bytes: record.record))
                binds.append(record.fetchedAt)
            }
            try await client.query(
                PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO risk_number_scoring_cache AS c (msisdn, record, fetched_at)
                        SELECT * FROM (VALUES \(rows.joined(separator: ", "))) AS v (msisdn, record, fetched_at)
                        ORDER BY v.msisdn \(Self.lockOrder)
                        ON CONFLICT (msisdn) DO UPDATE SET record = EXCLUDED.record, fetched_at = EXCLUDED.fetched_at
                        WHERE EXCLUDED.fetched_at >= c.fetched_at
                        """,
                    binds: binds),
                logger: logger
            )
        }
    }

    /// Deletes entries last written before `cutoff`, at most `purgeChunk` rows per statement; rows locked by
    /// another instance's purge are skipped, so that two instances purging at once do not wait on each other.
    public func purgeExpired(olderThan cutoff: Date) async throws -> Int {
        var total = 0
        for (table, key, time) in [("risk_idempotency", "external_id", "updated_at"), ("risk_number_scoring_cache", "msisdn", "fetched_at")] {
            while true {
                var binds = PostgresBindings()
                binds.append(cutoff)
                binds.append(purgeChunk)
                let rows = try await client.query(
                    PostgresQuery(
                        unsafeSQL: """
                            WITH doomed AS (
                                SELECT \(key) FROM \(table) WHERE \(time) < $1 LIMIT $2 FOR UPDATE SKIP LOCKED
                            ), deleted AS (
                                DELETE FROM \(table) t USING doomed WHERE t.\(key) = doomed.\(key) RETURNING 1
                            )
                            SELECT count(*)::bigint FROM deleted
                            """,
                        binds: binds),
                    logger: logger
                )
                var count = 0
                for try await (deleted) in rows.decode(Int64.self) {
                    count = Int(deleted)
                }
                total += count
                if count < purgeChunk { break }
            }
        }
        return total
    }

    /// Stops the connection pool and waits for it to finish.
    public func close() async throws {
        runner.cancel()
        await runner.value
    }

    // MARK: - Rows

    private static func scorings(from rows: PostgresRowSequence) async throws -> [StoredScoring] {
        var result: [StoredScoring] = []
        for try await (
            externalId, phoneRisk, numberScoring, partial, emitted, updatedAt, owner, expiresAt, deadLetteredAt, fetchedAt, topic, partition,
            offset
        )
            in rows.decode((String, ByteBuffer?, ByteBuffer?, Bool, Bool, Date, String?, Date?, Date?, Date?, String?, Int32?, Int64?).self)
        {
            var position: InputPosition?
            if let topic, let partition, let offset { position = InputPosition(topic: topic, partition: partition, offset: offset) }
            result.append(
                StoredScoring(
                    externalId: externalId,
                    phoneRisk: phoneRisk.map { Array($0.readableBytesView) },
                    numberScoring: numberScoring.map { Array($0.readableBytesView) },
                    partial: partial,
                    emitted: emitted,
                    updatedAt: updatedAt,
                    claimOwner: owner,
                    claimExpiresAt: expiresAt,
                    claimPosition: position,
                    deadLetteredAt: deadLetteredAt,
                    numberScoringFetchedAt: fetchedAt
                )
            )
        }
        return result
    }
}
