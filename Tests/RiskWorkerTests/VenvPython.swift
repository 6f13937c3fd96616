import Foundation

/// The Python of `.tools/venv` (scripts/bootstrap installs it with jsonschema and PyYAML), run to its end.
enum VenvPython {
    /// The package root, from this file's path.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Runs `script` with `arguments` from the package root; throws when the venv is missing.
    static func run(_ script: String, _ arguments: [String]) throws -> (status: Int32, output: Data, errors: String) {
        let python = root.appendingPathComponent(".tools/venv/bin/python3").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw WorkerProcessError("no Python at \(python): run scripts/bootstrap (it sets up .tools/venv with jsonschema and PyYAML)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", script] + arguments
        process.currentDirectoryURL = root
        let output = Pipe()
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("python-errors-\(UUID().uuidString.prefix(8))")
        guard FileManager.default.createFile(atPath: errors.path, contents: nil) else {
            throw WorkerProcessError("cannot create \(errors.path)")
        }
        defer { try? FileManager.default.removeItem(at: errors) }
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errorText = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
        return (process.terminationStatus, data, errorText)
    }
}
