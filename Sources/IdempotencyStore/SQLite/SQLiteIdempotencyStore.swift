import Foundation
import Logging
import NIOPosix
import SQLiteNIO

/// The embedded idempotency store: one SQLite file in WAL mode, for the worker instances of one machine.
///
/// Several processes on one machine may share the file (on a local disk; not over a network file system): every
/// statement is atomic across them, so claims hold between processes as they do within one.
///
/// Every operation is one SQL statement (auto-committed), so many concurrent callers can share the one connection:
/// SQLite serialises statements on it (the connection is opened in serialised mode) and no caller ever sees another's
/// half-done transaction. Batches (`lookup(externalIds:)`, `markEmitted`) pass their ids as one JSON array bound to
/// `json_each`, so a batch of any size is still a single statement; `save` writes a thousand rows per statement.
public final class SQLiteIdempotencyStore: IdempotencyStore {
    /// The schema version this code writes, kept in `PRAGMA user_version`.
    public static let schemaVersion = 4
    /// How long a statement waits for a lock held by another connection before failing, in milliseconds.
    public static let busyTimeoutMilliseconds = 5_000
    /// The default for the most rows one purge statement deletes, so that a purge never holds the write lock for long.
    public static let defaultPurgeChunk = 2_000
    /// The page cache of the connection, in KiB (SQLite's default is 2,000): recent entries are read again within
    /// seconds (the claim, the answers, the emitted mark) and lie together in write order, so a few MiB hold them; a
    /// miss is a read from the operating system's cache. 32 MiB cost 25-40 MB of resident memory against 4 MiB for
    /// no CPU saved (BENCHMARKS.md, "The SQLite page cache").
    public static let cacheKibibytes = 4_096

    private let connection: SQLiteConnection
    private let now: @Sendable () -> Date
    private let purgeChunk: Int
    /// The file's path.
    public let path: String

    private init(connection: SQLiteConnection, path: String, now: @escaping @Sendable () -> Date, purgeChunk: Int) {
        self.connection = connection
        self.path = path
        self.now = now
        self.purgeChunk = max(1, purgeChunk)
    }

    /// Opens (creating if absent) the store at `path`, its SQLite calls run on `threadPool`; `now` gives the time
    /// written with each entry and `purgeChunk` the most rows one purge statement deletes.
    public static func open(
        path: String,
        threadPool: NIOThreadPool = .singleton,
        logger: Logger = Logger(label: "risk-worker.idempotency.sqlite"),
        now: @escaping @Sendable () -> Date = { Date() },
        purgeChunk: Int = defaultPurgeChunk
    ) async throws -> SQLiteIdempotencyStore {
        let connection = try await SQLiteConnection.open(
            storage: .file(path: path), threadPool: threadPool, logger: logger, on: MultiThreadedEventLoopGroup.singleton.any())
        do {
            try await configure(connection)
            try await migrate(connection)
        } catch {
            try? await connection.close()
            throw error
        }
        logger.debug("opened the SQLite idempotency store", metadata: ["path": "\(path)"])
        return SQLiteIdempotencyStore(connection: connection, path: path, now: now, purgeChunk: purgeChunk)
    }

    private static func configure(_ connection: SQLiteConnection) async throws {
        // Replaces SQLiteNIO's busy handler (which waits forever) with a bounded wait.
        _ = try await connection.query("PRAGMA busy_timeout = \(busyTimeoutMilliseconds)")
        let mode = try await switchToWAL(connection)
        guard mode.first?.columns.first?.data.string?.lowercased() == "wal" else {
            throw IdempotencyStoreError.unsupported("SQLite refused WAL journal mode (got \(String(describing: mode.first)))")
        }
        // NORMAL in WAL mode: a commit is complete once its frames are written to the WAL file, which is in the
        // operating system's cache before the statement returns. That survives a crash of the process (SIGKILL), the
        // failure this store must survive; only a power loss or kernel crash may lose the last commits, and those
        // cost at most a repeated paid call, never a wrong output. FULL would fsync the WAL on every commit, for
        // thousands of commits per second.
        _ = try await connection.query("PRAGMA synchronous = NORMAL")
        _ = try await connection.query("PRAGMA foreign_keys = OFF")
        _ = try await connection.query("PRAGMA cache_size = -\(cacheKibibytes)")
    }

    /// Sets WAL journal mode, trying again while another connection holds the lock: SQLite answers a journal mode
    /// change with `SQLITE_BUSY` at once, without the busy handler, so two processes opening a new file at the same
    /// moment would otherwise fail one of them (35 of 300 such pairs in a model with Python's `sqlite3`).
    private static func switchToWAL(_ connection: SQLiteConnection) async throws -> [SQLiteRow] {
        let deadline = ContinuousClock.now + .milliseconds(busyTimeoutMilliseconds)
        while true {
            do {
                return try await connection.query("PRAGMA journal_mode = WAL")
            } catch let error as SQLiteError where error.reason == .busy && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
        }
    }

    /// The entries table (version 4). Since version 2 it is a rowid table, so that rows are stored in write order and
    /// the recent ones (those read and written again within seconds) share a few cached pages, with a small separate
    /// index on `external_id`; version 1 kept whole rows in `external_id` order (`WITHOUT ROWID`), so every write
    /// touched a random page. Version 3 added the claim, the dead-letter time and the cache origin of the number-scoring
    /// record; version 4 the input position of the claim.
    private static let createTable = """
        CREATE TABLE risk_idempotency (
            external_id TEXT NOT NULL UNIQUE,
            phone_risk BLOB,
            number_scoring BLOB,
            partial INTEGER NOT NULL DEFAULT 0,
            emitted INTEGER NOT NULL DEFAULT 0,
            updated_at INTEGER NOT NULL,
            claim_owner TEXT,
            claim_expires_at INTEGER,
            dead_lettered_at INTEGER,
            number_scoring_fetched_at INTEGER,
            claim_topic TEXT,
            claim_partition INTEGER,
            claim_offset INTEGER
        )
        """
    private static let createRetentionIndex = "CREATE INDEX risk_idempotency_updated_at ON risk_idempotency (updated_at)"
    /// Version 3's columns, added in place to a version 2 table.
    private static let addedInVersion3 = [
        "claim_owner TEXT", "claim_expires_at INTEGER", "dead_lettered_at INTEGER", "number_scoring_fetched_at INTEGER",
    ]
    /// Version 4's columns, added in place to a version 3 table.
    private static let addedInVersion4 = ["claim_topic TEXT", "claim_partition INTEGER", "claim_offset INTEGER"]
    /// The number-scoring cache (version 3): one record per number, with when the provider sent it.
    private static let createCache = [
        "CREATE TABLE risk_number_scoring_cache (msisdn TEXT PRIMARY KEY, record BLOB NOT NULL, fetched_at INTEGER NOT NULL)",
        "CREATE INDEX risk_number_scoring_cache_fetched_at ON risk_number_scoring_cache (fetched_at)",
    ]
    /// The entry columns every read returns, in ``scoring(from:)``'s terms.
    private static let entryColumns = """
        external_id, phone_risk, number_scoring, partial, emitted, updated_at, claim_owner, claim_expires_at, \
        dead_lettered_at, number_scoring_fetched_at, claim_topic, claim_partition, claim_offset
        """

    private static func migrate(_ connection: SQLiteConnection) async throws {
        // IMMEDIATE takes the write lock at once, so two processes opening a new file create the schema one after the other.
        _ = try await connection.query("BEGIN IMMEDIATE")
        do {
            let rows = try await connection.query("PRAGMA user_version")
            let version = rows.first?.columns.first?.data.integer ?? 0
            switch version {
            case 0:
                _ = try await connection.query(createTable)
                _ = try await connection.query(createRetentionIndex)
                for statement in createCache { _ = try await connection.query(statement) }
                _ = try await connection.query("PRAGMA user_version = \(schemaVersion)")
            case 1:
                // Version 1 to 3: the same columns, copied into the new layout (in write order, as far as known).
                _ = try await connection.query("ALTER TABLE risk_idempotency RENAME TO risk_idempotency_v1")
                _ = try await connection.query("DROP INDEX IF EXISTS risk_idempotency_updated_at")
                _ = try await connection.query(createTable)
                _ = try await connection.query(
                    """
                    INSERT INTO risk_idempotency (external_id, phone_risk, number_scoring, partial, emitted, updated_at)
                    SELECT external_id, phone_risk, number_scoring, partial, emitted, updated_at FROM risk_idempotency_v1
                    ORDER BY updated_at
                    """
                )
                _ = try await connection.query("DROP TABLE risk_idempotency_v1")
                _ = try await connection.query(createRetentionIndex)
                for statement in createCache { _ = try await connection.query(statement) }
                _ = try await connection.query("PRAGMA user_version = \(schemaVersion)")
            case 2, 3:
                // Version 2 or 3 to 4 in place: new nullable columns (no row is rewritten), and from 2 the cache table.
                for column in (version == 2 ? addedInVersion3 : []) + addedInVersion4 {
                    _ = try await connection.query("ALTER TABLE risk_idempotency ADD COLUMN \(column)")
                }
                if version == 2 {
                    for statement in createCache { _ = try await connection.query(statement) }
                }
                _ = try await connection.query("PRAGMA user_version = \(schemaVersion)")
            case schemaVersion:
                break
            default:
                throw IdempotencyStoreError.unsupported(
                    "the SQLite idempotency store has schema version \(version); this worker knows version \(schemaVersion)"
                )
            }
            _ = try await connection.query("COMMIT")
        } catch {
            _ = try? await connection.query("ROLLBACK")
            throw error
        }
    }

    // MARK: - IdempotencyStore

    /// The stored entry for `externalId`.
    public func lookup(externalId: String) async throws -> StoredScoring? {
        let rows = try await connection.query(
            "SELECT \(Self.entryColumns) FROM risk_idempotency WHERE external_id = ?1",
            [.text(externalId)]
        )
        return try rows.first.map(Self.scoring(from:))
    }

    /// The stored entries for many externalIds, in one statement.
    public func lookup(externalIds: [String]) async throws -> [String: StoredScoring] {
        guard !externalIds.isEmpty else { return [:] }
        let rows = try await connection.query(
            """
            SELECT \(Self.entryColumns) FROM risk_idempotency WHERE external_id IN (SELECT value FROM json_each(?1))
            """,
            [.text(try Self.jsonText(externalIds))]
        )
        var result: [String: StoredScoring] = [:]
        for row in rows {
            let scoring = try Self.scoring(from: row)
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
        let stamp = SQLiteData.integer(Self.milliseconds(now()))
        var rows: [String] = []
        var binds: [SQLiteData] = []
        rows.reserveCapacity(results.count)
        binds.reserveCapacity(results.count * 6)
        for result in results {
            let first = binds.count + 1
            rows.append("(?\(first), ?\(first + 1), ?\(first + 2), ?\(first + 3), ?\(first + 4), ?\(first + 5))")
            binds.append(.text(result.externalId))
            binds.append(result.phoneRisk.map { .blob(ByteBuffer(bytes: $0)) } ?? .null)
            binds.append(result.numberScoring.map { .blob(ByteBuffer(bytes: $0)) } ?? .null)
            binds.append(.integer(result.partial ? 1 : 0))
            binds.append(stamp)
            binds.append(result.numberScoringFetchedAt.map { .integer(Self.milliseconds($0)) } ?? .null)
        }
        _ = try await connection.query(
            """
            INSERT INTO risk_idempotency (external_id, phone_risk, number_scoring, partial, updated_at, number_scoring_fetched_at)
            VALUES \(rows.joined(separator: ", "))
            ON CONFLICT (external_id) DO UPDATE SET
                phone_risk = coalesce(excluded.phone_risk, phone_risk),
                partial = CASE WHEN excluded.phone_risk IS NULL THEN partial ELSE excluded.partial END,
                number_scoring_fetched_at = CASE WHEN excluded.number_scoring IS NULL THEN number_scoring_fetched_at
                    ELSE excluded.number_scoring_fetched_at END,
                number_scoring = coalesce(excluded.number_scoring, number_scoring),
                updated_at = excluded.updated_at
            """,
            binds
        )
    }

    /// Marks existing entries emitted and ends their claims, in one statement. Their write time (which retention
    /// counts from) is kept, so that the retention index is not rewritten for every event a second time.
    public func markEmitted(externalIds: [String]) async throws {
        guard !externalIds.isEmpty else { return }
        _ = try await connection.query(
            """
            UPDATE risk_idempotency SET emitted = 1, claim_owner = NULL, claim_expires_at = NULL
            WHERE external_id IN (SELECT value FROM json_each(?1))
            """,
            [.text(try Self.jsonText(externalIds))]
        )
    }

    /// Takes claims in one upsert: an entry that is not emitted and not claimed is claimed with the request's position;
    /// `owner`'s own claims get a new expiry and keep their positions; other owners' claims are left as they are.
    public func claim(_ requests: [ClaimRequest], owner: String, lease: Duration) async throws -> [String: StoredScoring] {
        let unique = ClaimRequest.unique(requests)
        guard !unique.isEmpty else { return [:] }
        let now = self.now()
        let rows = try await connection.query(
            """
            INSERT INTO risk_idempotency (external_id, claim_owner, claim_expires_at, updated_at, claim_topic, claim_partition, claim_offset)
            SELECT json_extract(value, '$.id'), ?2, ?3, ?4, json_extract(value, '$.topic'), json_extract(value, '$.partition'),
                json_extract(value, '$.offset')
            FROM json_each(?1) WHERE true
            ON CONFLICT (external_id) DO UPDATE SET
                claim_owner = CASE WHEN emitted = 0 AND claim_owner IS NULL THEN ?2 ELSE claim_owner END,
                claim_expires_at = CASE WHEN emitted = 0 AND (claim_owner IS NULL OR claim_owner = ?2) THEN ?3 ELSE claim_expires_at END,
                claim_topic = CASE WHEN emitted = 0 AND claim_owner IS NULL THEN excluded.claim_topic ELSE claim_topic END,
                claim_partition = CASE WHEN emitted = 0 AND claim_owner IS NULL THEN excluded.claim_partition ELSE claim_partition END,
                claim_offset = CASE WHEN emitted = 0 AND claim_owner IS NULL THEN excluded.claim_offset ELSE claim_offset END
            RETURNING \(Self.entryColumns)
            """,
            [
                .text(try Self.jsonText(unique.map(ClaimRow.init))), .text(owner),
                .integer(Self.milliseconds(now.adding(lease))), .integer(Self.milliseconds(now)),
            ]
        )
        var result: [String: StoredScoring] = [:]
        for row in rows {
            let scoring = try Self.scoring(from: row)
            result[scoring.externalId] = scoring
        }
        return result
    }

    /// One claim request as the claim statement reads it from JSON.
    private struct ClaimRow: Encodable {
        var id: String
        var topic: String?
        var partition: Int32?
        var offset: Int64?

        init(_ request: ClaimRequest) {
            id = request.externalId
            topic = request.position?.topic
            partition = request.position?.partition
            offset = request.position?.offset
        }
    }

    /// Takes the claim `previous` showed, in one conditional update.
    public func takeOver(_ request: ClaimRequest, from previous: StoredScoring, owner: String, lease: Duration) async throws -> StoredScoring? {
        let now = self.now()
        func text(_ value: String?) -> SQLiteData { value.map { .text($0) } ?? .null }
        func integer(_ value: (some BinaryInteger)?) -> SQLiteData { value.map { .integer(Int($0)) } ?? .null }
        let rows = try await connection.query(
            """
            UPDATE risk_idempotency SET claim_owner = ?2, claim_expires_at = ?3, claim_topic = ?4, claim_partition = ?5, claim_offset = ?6
            WHERE external_id = ?1 AND emitted = 0 AND claim_owner IS ?7 AND claim_topic IS ?8 AND claim_partition IS ?9
                AND claim_offset IS ?10 AND (claim_owner IS NULL OR claim_owner = ?2 OR claim_expires_at <= ?11)
            RETURNING \(Self.entryColumns)
            """,
            [
                .text(request.externalId), .text(owner), .integer(Self.milliseconds(now.adding(lease))),
                text(request.position?.topic), integer(request.position?.partition), integer(request.position?.offset),
                text(previous.claimOwner), text(previous.claimPosition?.topic), integer(previous.claimPosition?.partition),
                integer(previous.claimPosition?.offset), .integer(Self.milliseconds(now)),
            ]
        )
        return try rows.first.map(Self.scoring(from:))
    }

    /// Extends `owner`'s claims in one statement.
    public func renewClaims(externalIds: [String], owner: String, lease: Duration) async throws -> Set<String> {
        guard !externalIds.isEmpty else { return [] }
        let rows = try await connection.query(
            """
            UPDATE risk_idempotency SET claim_expires_at = ?3
            WHERE claim_owner = ?2 AND external_id IN (SELECT value FROM json_each(?1)) RETURNING external_id
            """,
            [.text(try Self.jsonText(externalIds)), .text(owner), .integer(Self.milliseconds(now().adding(lease)))]
        )
        return Set(rows.compactMap { $0.column("external_id")?.string })
    }

    /// Ends `owner`'s claims in one statement.
    public func releaseClaims(externalIds: [String], owner: String) async throws {
        guard !externalIds.isEmpty else { return }
        _ = try await connection.query(
            """
            UPDATE risk_idempotency SET claim_owner = NULL, claim_expires_at = NULL
            WHERE claim_owner = ?2 AND external_id IN (SELECT value FROM json_each(?1))
            """,
            [.text(try Self.jsonText(externalIds)), .text(owner)]
        )
    }

    /// Records committed dead letters and ends their claims, in one statement.
    public func markDeadLettered(externalIds: [String]) async throws {
        guard !externalIds.isEmpty else { return }
        _ = try await connection.query(
            """
            UPDATE risk_idempotency SET dead_lettered_at = ?2, claim_owner = NULL, claim_expires_at = NULL
            WHERE external_id IN (SELECT value FROM json_each(?1))
            """,
            [.text(try Self.jsonText(externalIds)), .integer(Self.milliseconds(now()))]
        )
    }

    /// The cached records of these numbers fetched after `fetchedAfter`, in one statement.
    public func cachedNumberScoring(msisdns: [String], fetchedAfter: Date) async throws -> [String: CachedNumberScoring] {
        guard !msisdns.isEmpty else { return [:] }
        let rows = try await connection.query(
            """
            SELECT msisdn, record, fetched_at FROM risk_number_scoring_cache
            WHERE msisdn IN (SELECT value FROM json_each(?1)) AND fetched_at > ?2
            """,
            [.text(try Self.jsonText(msisdns)), .integer(Self.milliseconds(fetchedAfter))]
        )
        var result: [String: CachedNumberScoring] = [:]
        for row in rows {
            guard let msisdn = row.column("msisdn")?.string, let record = row.column("record")?.blob,
                let fetchedAt = row.column("fetched_at")?.integer
            else { throw IdempotencyStoreError.corrupt("a row of risk_number_scoring_cache lacks a column") }
            result[msisdn] = CachedNumberScoring(msisdn: msisdn, record: Array(record.readableBytesView), fetchedAt: Self.date(fetchedAt))
        }
        return result
    }

    /// Upserts cached records, a thousand per statement; a record older than the one kept does not replace it.
    public func saveCachedNumberScoring(_ records: [CachedNumberScoring]) async throws {
        for chunk in CachedNumberScoring.statementChunks(records) {
            var rows: [String] = []
            var binds: [SQLiteData] = []
            for record in chunk {
                let first = binds.count + 1
                rows.append("(?\(first), ?\(first + 1), ?\(first + 2))")
                binds.append(.text(record.msisdn))
                binds.append(.blob(ByteBuffer(bytes: record.record)))
                binds.append(.integer(Self.milliseconds(record.fetchedAt)))
            }
            _ = try await connection.query(
                """
                INSERT INTO risk_number_scoring_cache (msisdn, record, fetched_at) VALUES \(rows.joined(separator: ", "))
                ON CONFLICT (msisdn) DO UPDATE SET record = excluded.record, fetched_at = excluded.fetched_at
                WHERE excluded.fetched_at >= fetched_at
                """,
                binds
            )
        }
    }

    /// Deletes entries last written and cached records fetched before `cutoff`, in chunks of at most `purgeChunk`
    /// rows per statement.
    public func purgeExpired(olderThan cutoff: Date) async throws -> Int {
        var total = 0
        for (table, key, time) in [("risk_idempotency", "external_id", "updated_at"), ("risk_number_scoring_cache", "msisdn", "fetched_at")] {
            while true {
                let rows = try await connection.query(
                    """
                    DELETE FROM \(table) WHERE \(key) IN (
                        SELECT \(key) FROM \(table) WHERE \(time) < ?1 LIMIT ?2
                    ) RETURNING 1
                    """,
                    [.integer(Self.milliseconds(cutoff)), .integer(purgeChunk)]
                )
                total += rows.count
                if rows.count < purgeChunk { break }
            }
        }
        return total
    }

    /// Closes the connection (checkpointing the WAL).
    public func close() async throws {
        try await connection.close()
    }

    // MARK: - Rows

    private static func scoring(from row: SQLiteRow) throws -> StoredScoring {
        guard let externalId = row.column("external_id")?.string,
            let updatedAt = row.column("updated_at")?.integer
        else {
            throw IdempotencyStoreError.corrupt("a row of risk_idempotency lacks external_id or updated_at")
        }
        return StoredScoring(
            externalId: externalId,
            phoneRisk: row.column("phone_risk")?.blob.map { Array($0.readableBytesView) },
            numberScoring: row.column("number_scoring")?.blob.map { Array($0.readableBytesView) },
            partial: row.column("partial")?.integer == 1,
            emitted: row.column("emitted")?.integer == 1,
            updatedAt: date(updatedAt),
            claimOwner: row.column("claim_owner")?.string,
            claimExpiresAt: row.column("claim_expires_at")?.integer.map(date),
            claimPosition: position(from: row),
            deadLetteredAt: row.column("dead_lettered_at")?.integer.map(date),
            numberScoringFetchedAt: row.column("number_scoring_fetched_at")?.integer.map(date)
        )
    }

    private static func position(from row: SQLiteRow) -> InputPosition? {
        guard let topic = row.column("claim_topic")?.string, let partition = row.column("claim_partition")?.integer,
            let offset = row.column("claim_offset")?.integer
        else { return nil }
        return InputPosition(topic: topic, partition: Int32(truncatingIfNeeded: partition), offset: Int64(offset))
    }

    private static func date(_ milliseconds: Int) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    private static func milliseconds(_ date: Date) -> Int {
        Int((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// `value` as the JSON text a statement reads with `json_each`.
    private static func jsonText(_ value: some Encodable) throws -> String {
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }
}
