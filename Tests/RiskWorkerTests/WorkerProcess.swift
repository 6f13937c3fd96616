import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A `risk-worker` binary run as a child process for a test, its output in a log file.
///
/// A small Python supervisor starts it with no blocked signals, and kills it with SIGKILL when the test's pipe to
/// the supervisor closes, so that no worker outlives its test, even when the test process dies.
final class WorkerProcess: @unchecked Sendable {
    /// The worker's process id.
    let pid: Int32
    /// Where its standard output and error go.
    let logURL: URL
    private let supervisor: Process
    private let keepAlive: Pipe
    private let output: Pipe

    /// The built `risk-worker` next to the test bundle (`swift test` builds it, the test target depends on it).
    static var binary: URL {
        get throws {
            let candidates = [
                URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
                Bundle.main.bundleURL,
                Bundle.main.bundleURL.deletingLastPathComponent(),
            ]
            for directory in candidates {
                let url = directory.appendingPathComponent("risk-worker")
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue,
                    FileManager.default.isExecutableFile(atPath: url.path)
                {
                    return url
                }
            }
            throw WorkerProcessError("no risk-worker binary next to the tests (looked in \(candidates.map(\.path)))")
        }
    }

    /// Starts `risk-worker` with `arguments` and exactly `environment` (plus PATH and HOME).
    init(_ arguments: [String], environment: [String: String], name: String = "worker") throws {
        let binary = try Self.binary
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent("risk-worker-\(name)-\(UUID().uuidString.prefix(8)).log")
        supervisor = Process()
        supervisor.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        supervisor.arguments = ["-c", Self.supervisorScript, binary.path] + arguments
        var env = environment
        let inherited = ProcessInfo.processInfo.environment
        env["PATH"] = inherited["PATH"] ?? "/usr/bin:/bin"
        env["HOME"] = inherited["HOME"] ?? "/tmp"
        env["WORKER_LOG"] = logURL.path
        supervisor.environment = env
        keepAlive = Pipe()
        output = Pipe()
        supervisor.standardInput = keepAlive
        supervisor.standardOutput = output
        supervisor.standardError = FileHandle.nullDevice
        try supervisor.run()
        let firstLine = Self.readLine(output.fileHandleForReading)
        guard let pid = Int32(firstLine.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw WorkerProcessError("the worker did not start: \(firstLine)")
        }
        self.pid = pid
    }

    deinit {
        try? keepAlive.fileHandleForWriting.close()
    }

    /// Sends `signal` (such as SIGTERM or SIGKILL) to the worker.
    func send(_ signal: Int32) {
        kill(pid, signal)
    }

    /// Waits until the worker exits (or `timeout` passes: throws) and returns its exit status (128+n for signal n).
    func waitForExit(timeout: Duration = .seconds(60)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while supervisor.isRunning {
            guard ContinuousClock.now < deadline else {
                throw WorkerProcessError("the worker did not exit within \(timeout); log:\n\(log.suffix(3000))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix("exit ") }), let status = Int32(line.dropFirst(5)) else {
            throw WorkerProcessError("no exit status from the worker's supervisor: \(text)")
        }
        return status
    }

    /// Kills the worker (SIGKILL) and waits until it is gone.
    func kill9() async throws {
        send(SIGKILL)
        _ = try await waitForExit(timeout: .seconds(20))
    }

    /// Stops the worker if it still runs (SIGKILL through the supervisor) without waiting.
    func stop() {
        try? keepAlive.fileHandleForWriting.close()
    }

    /// Everything the worker wrote so far.
    var log: String {
        (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
    }

    /// Starts the worker with an empty signal mask (Foundation passes its blocked mask on), prints its pid, kills it
    /// when stdin closes, and prints `exit <status>` (128 + n for signal n) when it ends.
    private static let supervisorScript = """
        import os, signal, subprocess, sys, threading
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        log = open(os.environ["WORKER_LOG"], "wb")
        child = subprocess.Popen(sys.argv[1:], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 preexec_fn=lambda: signal.pthread_sigmask(signal.SIG_SETMASK, []))
        print(child.pid, flush=True)
        def watch():
            sys.stdin.buffer.read()
            child.kill()
        threading.Thread(target=watch, daemon=True).start()
        status = child.wait()
        print(f"exit {status if status >= 0 else 128 - status}", flush=True)
        """

    private static func readLine(_ handle: FileHandle) -> String {
        var bytes: [UInt8] = []
        while true {
            let data = handle.readData(ofLength: 1)
            guard let byte = data.first else { break }
            if byte == UInt8(ascii: "\n") { break }
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A child process that did not behave.
struct WorkerProcessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
