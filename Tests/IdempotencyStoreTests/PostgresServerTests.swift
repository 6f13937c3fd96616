import Foundation
import Logging
import PostgresNIO
import PostgresTestSupport
import Testing

/// The test support itself: a server started on its own stops and leaves nothing behind.
@Suite("PostgresServer")
struct PostgresServerTests {
    @Test func aStoppedServerIsGoneWithItsDirectory() async throws {
        let server = try await PostgresServer.start()
        let logger = Logger(label: "test")
        let connection = try await PostgresConnection.connect(configuration: server.configuration(), id: 1, logger: logger)
        try await connection.query("SELECT 1", logger: logger)
        try await connection.close()
        #expect(FileManager.default.fileExists(atPath: server.directory))

        server.stop()
        // The wrapper stops postgres and removes the directory on its own; wait for that with a deadline.
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(30))
        while FileManager.default.fileExists(atPath: server.directory), clock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))  // polling an outside process, not synchronising tasks
        }
        #expect(!FileManager.default.fileExists(atPath: server.directory))
        await #expect(throws: (any Error).self) {
            let again = try await PostgresConnection.connect(configuration: server.configuration(), id: 2, logger: logger)
            try? await again.close()
        }
    }
}
