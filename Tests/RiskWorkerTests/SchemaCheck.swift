import Foundation

/// Validates JSON values against a schema in schemas/ with Python's `jsonschema` (installed by scripts/bootstrap).
enum SchemaCheck {
    static var root: URL { VenvPython.root }

    /// Throws naming the first values that do not validate.
    static func validate(_ values: [[UInt8]], schema: String) throws {
        let lines = FileManager.default.temporaryDirectory.appendingPathComponent("values-\(UUID().uuidString.prefix(8)).jsonl")
        defer { try? FileManager.default.removeItem(at: lines) }
        try Data(values.map { Data($0) + Data("\n".utf8) }.joined()).write(to: lines)
        let script = """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
            bad = 0
            for number, line in enumerate(open(sys.argv[2], encoding="utf-8"), 1):
                errors = list(validator.iter_errors(json.loads(line)))
                if errors:
                    bad += 1
                    if bad <= 5: print(f"value {number}: {errors[0].message}")
            print(f"checked {number} bad {bad}")
            sys.exit(1 if bad else 0)
            """
        let (status, output, errors) = try VenvPython.run(script, [root.appendingPathComponent("schemas/\(schema)").path, lines.path])
        let text = String(decoding: output, as: UTF8.self) + errors
        guard status == 0, text.contains("checked \(values.count) bad 0") else {
            throw WorkerProcessError("values do not validate against \(schema):\n\(text)")
        }
    }
}
