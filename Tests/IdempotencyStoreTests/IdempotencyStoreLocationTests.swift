import FixtureTestSupport
import Foundation
import Testing
@testable import IdempotencyStore

@Suite("IdempotencyStoreLocation")
struct IdempotencyStoreLocationTests {
    @Test(arguments: [nil, "", "   "] as [String?])
    func anEmptySettingGivesTheDefaultSQLiteFile(value: String?) throws {
        #expect(try IdempotencyStoreLocation.parse(value) == .sqlite(path: "risk-worker-idempotency.sqlite"))
    }

    @Test func sqliteURLs() throws {
        #expect(try IdempotencyStoreLocation.parse("sqlite:///var/lib/risk/idem.sqlite") == .sqlite(path: "/var/lib/risk/idem.sqlite"))
        #expect(try IdempotencyStoreLocation.parse("SQLITE:///tmp/a%20b.sqlite") == .sqlite(path: "/tmp/a b.sqlite"))
        #expect(try IdempotencyStoreLocation.parse("sqlite:data/idem.sqlite") == .sqlite(path: "data/idem.sqlite"))
        #expect(try IdempotencyStoreLocation.parse("sqlite:./idem.sqlite") == .sqlite(path: "./idem.sqlite"))
    }

    @Test(arguments: ["sqlite://host/path.sqlite", "sqlite:", "sqlite:///", "sqlite:///tmp/x.sqlite?mode=ro", "sqlite:///dir/"])
    func badSQLiteURLsAreRefused(value: String) {
        #expect(throws: IdempotencyStoreLocation.ParseError.self) { try IdempotencyStoreLocation.parse(value) }
    }

    @Test func postgresURLs() throws {
        let full = try IdempotencyStoreLocation.parse("postgres://risk:s3cret@db.internal:6543/risk_idem?sslmode=require")
        #expect(full == .postgres(PostgresStoreSettings(
            host: "db.internal", port: 6543, username: "risk", password: "s3cret", database: "risk_idem", tls: .require
        )))
        let defaults = try IdempotencyStoreLocation.parse("postgresql://worker@localhost")
        #expect(defaults == .postgres(PostgresStoreSettings(
            host: "localhost", port: 5432, username: "worker", password: nil, database: "worker", tls: .prefer
        )))
        let encoded = try IdempotencyStoreLocation.parse("postgres://us%40er:p%3Aw@d@[::1]:5433/db")
        #expect(encoded == .postgres(PostgresStoreSettings(
            host: "::1", port: 5433, username: "us@er", password: "p:w@d", database: "db", tls: .prefer
        )))
    }

    @Test(arguments: [
        "mysql://u:hunter2@h/db",
        "postgres://u:hunter2@h:notaport/db",
        "postgres://u:hunter2@h:70000/db",
        "postgres://u:hunter2@/db",
        "postgres://:hunter2@h/db",
        "postgres://u:hunter2@h/db?sslmode=verify-full",
        "postgres://u:hunter2@h/db?application_name=x",
        "postgres://u:hunter2",
        "postgres://u:hunter2@[::1/db",
        "/just/a/path",
    ])
    func badValuesAreRefusedAndNeverShowThePassword(value: String) {
        do {
            let location = try IdempotencyStoreLocation.parse(value)
            Issue.record("accepted \(value) as \(location)")
        } catch {
            #expect(!error.message.isEmpty && !error.message.contains("IDEMPOTENCY_STORE"), "the setting's name is the settings' to add: \(error.message)")
            #expect(!error.message.contains("hunter2"), "\(error.message)")
        }
    }

    @Test func descriptionsHideThePassword() throws {
        let location = try IdempotencyStoreLocation.parse("postgres://risk:hunter2@db:5432/idem")
        #expect(!"\(location)".contains("hunter2"))
        #expect("\(location)" == "postgres://risk:***@db:5432/idem")
        #expect(IdempotencyStoreLocation.redact("postgres://a:b/c@d@h/x") == "postgres://a:***@h/x")
    }
}

@Suite("IdempotencyStoreLocation opening")
struct IdempotencyStoreLocationOpeningTests {
    @Test func anSQLiteLocationOpensAWorkingStore() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try await IdempotencyStoreLocation.parse("sqlite://" + directory.file("opened.sqlite")).open()
        #expect(store is SQLiteIdempotencyStore)
        try await store.saveNumberScoring(externalId: "x", json: Array("{}".utf8))
        #expect(try await store.lookup(externalId: "x") != nil)
        try await store.close()
        #expect(FileManager.default.fileExists(atPath: directory.file("opened.sqlite")))
    }
}
