import Foundation
import Logging
import PostgresNIO

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A real, throw-away PostgreSQL server for tests: `initdb` in a temporary directory, `postgres` on 127.0.0.1 on a free
/// port, both run as the `postgres` user; it stops and its directory is removed when ``stop()`` is called or when the
/// test process ends (a small `sh` wrapper watches a pipe from this process and tears the server down when it closes).
public final class PostgresServer: Sendable {
    /// Why a server could not be started.
    public struct StartError: Error, CustomStringConvertible {
        /// What went wrong, with the server's log when there is one.
        public let description: String
    }

    /// The host the server listens on (always 127.0.0.1).
    public let host: String
    /// The TCP port the server listens on.
    public let port: Int
    /// The superuser's name.
    public let username: String
    /// The superuser's password (the server uses scram-sha-256 over TCP).
    public let password: String
    /// The temporary directory holding data, socket and log.
    public let directory: String

    private let lifeline: FileHandle
    private let logger: Logger

    private init(host: String, port: Int, username: String, password: String, directory: String, lifeline: FileHandle, logger: Logger) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.directory = directory
        self.lifeline = lifeline
        self.logger = logger
    }

    /// The server shared by all tests of this process, started on first use.
    public static func shared() async throws -> PostgresServer {
        try await SharedPostgresServer.instance.server()
    }

    /// A `postgres://` URL for `database` with the superuser's credentials.
    public func url(database: String = "postgres") -> String {
        "postgres://\(username):\(password)@\(host):\(port)/\(database)"
    }

    /// Connection settings for `database` (TLS disabled).
    public func configuration(database: String = "postgres") -> PostgresConnection.Configuration {
        .init(host: host, port: port, username: username, password: password, database: database, tls: .disable)
    }

    /// Creates a fresh, empty database and returns its name.
    public func createDatabase(prefix: String = "test") async throws -> String {
        let name = "\(prefix)_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        let connection = try await PostgresConnection.connect(configuration: configuration(), id: 1, logger: logger)
        do {
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \"\(name)\""), logger: logger)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
        return name
    }

    /// Stops the server and removes its directory (the wrapper does it once its stdin pipe closes).
    public func stop() {
        try? lifeline.close()
    }

    /// Starts a new server; fails with a clear message (including the server log) when it cannot.
    public static func start(
        logger: Logger = Logger(label: "postgres-test-server"),
        timeout: Duration = .seconds(60)
    ) async throws -> PostgresServer {
        let binDir = try findBinDir()
        var lastError = ""
        for _ in 0..<3 {
            do {
                return try await attempt(binDir: binDir, logger: logger, timeout: timeout)
            } catch let error as StartError {
                lastError = error.description
                // A port taken in between is worth another try; anything else is reported at once.
                guard lastError.contains("could not bind") || lastError.contains("already in use") else { break }
            }
        }
        throw StartError(description: lastError)
    }

    /// One start attempt: a fresh directory, `initdb`, then `postgres` on a free port.
    private static func attempt(binDir: String, logger: Logger, timeout: Duration) async throws -> PostgresServer {
        guard let account = getpwnam("postgres") else {
            throw StartError(description: "PostgresServer: there is no `postgres` user on this machine (install the postgresql package; run scripts/bootstrap)")
        }
        let uid = account.pointee.pw_uid
        let gid = account.pointee.pw_gid
        let port = try freePort()

        var template = Array("/tmp/risk-pg-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw StartError(description: "PostgresServer: mkdtemp failed: errno \(errno)")
        }
        let directory = String(cString: made)
        let password = "pw-\(UUID().uuidString.prefix(8).lowercased())"
        let username = "risk"
        do {
            let passwordFile = directory + "/pwfile"
            try Data(password.utf8).write(to: URL(fileURLWithPath: passwordFile))
            for path in [directory, passwordFile] where chown(path, uid, gid) != 0 {
                throw StartError(description: "PostgresServer: chown \(path) to postgres failed: errno \(errno)")
            }
            let initdb = try await runAsPostgres(
                executable: binDir + "/initdb",
                arguments: [
                    "-D", directory + "/data", "-U", username, "--pwfile=" + passwordFile,
                    "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--locale=C", "--no-sync",
                ]
            )
            guard initdb.status == 0 else {
                throw StartError(description: "PostgresServer: initdb failed with status \(initdb.status):\n\(initdb.output)")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        // From here on the wrapper owns the directory and removes it when the server stops.
        return try await launch(
            binDir: binDir, directory: directory, port: port, username: username, password: password,
            logger: logger, timeout: timeout
        )
    }

    // MARK: - Internals

    /// The wrapper: runs postgres as the `postgres` user in the foreground and records its exit status in
    /// `exited` (so that the test process sees at once when it died during start-up); a background watcher reads
    /// the wrapper's stdin (a pipe from the test process, passed as fd 3 because sh gives background jobs
    /// /dev/null as stdin) and, at end of file, stops postgres with SIGINT (fast
    /// shutdown); then the wrapper waits for that end of file too and removes the directory.
    ///
    /// The shell's `wait` builtin is not used on purpose: the test process spawns children with SIGCHLD blocked
    /// (Foundation's `Process` keeps the caller's signal mask) and dash's `wait` then never returns, while its
    /// foreground waits do not depend on the signal.
    private static let wrapperScript = #"""
        dir="$1"; port="$2"; bin="$3"
        exec 3<&0
        (
          cat <&3 >/dev/null
          i=0
          while [ "$i" -lt 300 ] && [ ! -f "$dir/exited" ]; do
            pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null)
            if [ -n "$pid" ]; then kill -INT "$pid" 2>/dev/null; break; fi
            sleep 0.1
            i=$((i + 1))
          done
        ) &
        exec 3<&-
        setpriv --reuid=postgres --regid=postgres --init-groups -- "$bin/postgres" -D "$dir/data" \
          -k "$dir" -h 127.0.0.1 -p "$port" -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
          -c max_connections=300 </dev/null >>"$dir/postgres.log" 2>&1
        echo "$?" >"$dir/exited"
        cat >/dev/null
        rm -rf "$dir"
        """#

    private static func launch(
        binDir: String, directory: String, port: Int, username: String, password: String,
        logger: Logger, timeout: Duration
    ) async throws -> PostgresServer {
        let pipe = Pipe()
        // The write end must not leak into other child processes, or the pipe would never close.
        _ = fcntl(pipe.fileHandleForWriting.fileDescriptor, F_SETFD, FD_CLOEXEC)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", wrapperScript, "sh", directory, String(port), binDir]
        process.standardInput = pipe
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw StartError(description: "PostgresServer: cannot run /bin/sh: \(error)")
        }
        try? pipe.fileHandleForReading.close()

        let server = PostgresServer(
            host: "127.0.0.1", port: port, username: username, password: password, directory: directory,
            lifeline: pipe.fileHandleForWriting, logger: logger
        )
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var lastError: (any Error)?
        while clock.now < deadline {
            if FileManager.default.fileExists(atPath: directory + "/exited") {
                let log = readLog(directory)
                server.stop()
                throw StartError(description: "PostgresServer: postgres exited during start-up on port \(port):\n\(log)")
            }
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: server.configuration(), id: 0, logger: logger
                )
                try await connection.query("SELECT 1", logger: logger)
                try await connection.close()
                logger.debug("PostgreSQL test server ready", metadata: ["port": "\(port)", "dir": "\(directory)"])
                return server
            } catch {
                lastError = error
                try await Task.sleep(for: .milliseconds(50))  // poll interval, not synchronisation
            }
        }
        let log = readLog(directory)
        server.stop()
        throw StartError(
            description: "PostgresServer: not ready within \(timeout) on port \(port); last error: \(String(describing: lastError))\n\(log)"
        )
    }

    private static func readLog(_ directory: String) -> String {
        (try? String(contentsOfFile: directory + "/postgres.log", encoding: .utf8)) ?? "(no postgres.log)"
    }

    private static func findBinDir() throws -> String {
        var candidates: [String] = []
        if let fromConfig = try? runSync("/usr/bin/pg_config", ["--bindir"]) {
            candidates.append(fromConfig.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        if let versions = try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql") {
            let sorted = versions.sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
            candidates += sorted.map { "/usr/lib/postgresql/\($0)/bin" }
        }
        for dir in candidates
        where FileManager.default.isExecutableFile(atPath: dir + "/initdb")
            && FileManager.default.isExecutableFile(atPath: dir + "/postgres")
        {
            return dir
        }
        throw StartError(
            description: "PostgresServer: no PostgreSQL server binaries (initdb, postgres) found via pg_config --bindir or in /usr/lib/postgresql/*/bin; install the postgresql package (scripts/bootstrap)"
        )
    }

    private static func runSync(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    private static func runAsPostgres(executable: String, arguments: [String]) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", executable] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: "/tmp")
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        process.standardInput = FileHandle.nullDevice
        return try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { finished in
                let data = (try? out.fileHandleForReading.readToEnd()) ?? Data()
                continuation.resume(returning: (finished.terminationStatus, String(decoding: data, as: UTF8.self)))
            }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: StartError(description: "PostgresServer: cannot run setpriv: \(error)"))
            }
        }
    }

    /// Asks the kernel for a free TCP port on 127.0.0.1.
    private static func freePort() throws -> Int {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw StartError(description: "PostgresServer: socket() failed: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw StartError(description: "PostgresServer: bind() failed: errno \(errno)") }
        var actual = sockaddr_in()
        var actualLength = length
        let named = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &actualLength) }
        }
        guard named == 0 else { throw StartError(description: "PostgresServer: getsockname() failed: errno \(errno)") }
        return Int(UInt16(bigEndian: actual.sin_port))
    }
}

/// Starts the process-wide server once, on first request.
private actor SharedPostgresServer {
    static let instance = SharedPostgresServer()
    private var starting: Task<PostgresServer, any Error>?

    func server() async throws -> PostgresServer {
        if let starting { return try await starting.value }
        let task = Task { try await PostgresServer.start() }
        starting = task
        return try await task.value
    }
}
