import FixtureTestSupport
import Foundation
import Testing
@testable import RiskEvents

/// Runs the example corpus in schemas/examples through Python's `jsonschema` (with RFC 3339 format checking) and
/// through the worker's decoder, and checks that both accept and reject exactly the same files.
@Suite("Schema corpus")
struct SchemaCorpusTests {
    /// The package root, found from this file's path (Tests/RiskEventsTests/SchemaCorpusTests.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let schemas = root.appendingPathComponent("schemas")
    static let examples = schemas.appendingPathComponent("examples")

    struct Verdict: Decodable {
        let file: String
        let valid: Bool
        let error: String?
    }

    static func files(in folder: String) throws -> [String] {
        let directory = examples.appendingPathComponent(folder)
        return try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".json") }
            .sorted()
            .map { directory.appendingPathComponent($0).path }
    }

    /// Runs the validator script with the venv's Python; fails clearly when the venv is missing.
    static func validate(schema: String, files: [String]) throws -> [String: Verdict] {
        let python = root.appendingPathComponent(".tools/venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw CorpusError("no Python at \(python): run scripts/bootstrap (it installs jsonschema into .tools/venv)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", validatorScript, schemas.appendingPathComponent(schema).path] + files
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CorpusError("the validator failed (status \(process.terminationStatus)); is jsonschema installed in .tools/venv? run scripts/bootstrap\n\(errorText)")
        }
        var verdicts: [String: Verdict] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let verdict = try JSONDecoder().decode(Verdict.self, from: Data(line.utf8))
            verdicts[verdict.file] = verdict
        }
        return verdicts
    }

    static func swiftVerdict(_ path: String) throws -> Result<LifecycleEvent, ValidationError> {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        do throws(ValidationError) {
            return .success(try LifecycleEvent.decode(bytes))
        } catch {
            return .failure(error)
        }
    }

    @Test func theCorpusIsLargeEnough() throws {
        #expect(try Self.files(in: "valid").count >= 12)
        #expect(try Self.files(in: "invalid").count >= 20)
    }

    @Test func validExamplesPassTheSchemaAndTheDecoder() throws {
        let files = try Self.files(in: "valid")
        let verdicts = try Self.validate(schema: "lifecycle-event.schema.json", files: files)
        #expect(verdicts.count == files.count)
        for file in files {
            let name = (file as NSString).lastPathComponent
            #expect(verdicts[file]?.valid == true, "schema rejects \(name): \(verdicts[file]?.error ?? "no verdict")")
            if case .failure(let error) = try Self.swiftVerdict(file) {
                Issue.record("decoder rejects \(name): \(error)")
            }
        }
    }

    @Test func invalidExamplesFailTheSchemaAndTheDecoderWithTheExpectedCode() throws {
        let files = try Self.files(in: "invalid")
        let verdicts = try Self.validate(schema: "lifecycle-event.schema.json", files: files)
        let expectedCodes = try JSONDecoder().decode(
            [String: String].self, from: Data(contentsOf: Self.examples.appendingPathComponent("invalid-codes.json"))
        )
        #expect(verdicts.count == files.count)
        #expect(Set(expectedCodes.keys) == Set(files.map { ($0 as NSString).lastPathComponent }), "invalid-codes.json lists every invalid example")
        for file in files {
            let name = (file as NSString).lastPathComponent
            #expect(verdicts[file]?.valid == false, "schema accepts \(name)")
            switch try Self.swiftVerdict(file) {
            case .success(let event):
                Issue.record("decoder accepts \(name) as \(event)")
            case .failure(let error):
                #expect(error.code == expectedCodes[name], "\(name): \(error)")
            }
        }
    }

    @Test func theScoredEventExampleMatchesItsSchema() throws {
        let file = Self.examples.appendingPathComponent("scored-event.json").path
        let verdicts = try Self.validate(schema: "scored-event.schema.json", files: [file])
        #expect(verdicts[file]?.valid == true, "\(verdicts[file]?.error ?? "no verdict")")
    }

    @Test func theScoredEventSchemaRejectsAnEventWithoutProviderAnswers() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = directory.file("bad-scored.json")
        try Data(#"{"externalId":"e","accountLifecycleEvent":"create","phoneNumber":"+436501234567","scoredAt":"2025-08-06T12:00:00Z","partial":false}"#.utf8)
            .write(to: URL(fileURLWithPath: file))
        let verdicts = try Self.validate(schema: "scored-event.schema.json", files: [file])
        #expect(verdicts[file]?.valid == false)
    }

    /// Random strings for the three pattern-checked fields and occurredAt go through both the schema and the
    /// decoder's rules; both must agree on every one.
    @Test func patternsAndDecoderAgreeOnGeneratedValues() throws {
        var generator = SplitMix64(seed: 42)
        let pieces: [String] = [
            "+", "0", "1", "4", "9", "  ", "-", ".", "(", ")", "\u{00A0}", "\t", "\n", "a", "@", ":", "::", "255", "256",
            "01", "ff", "1.2.3.4", "T", "t", "Z", "z", "2024-02-29", "2023-02-29", "12:30:59", "23:59:60", "+02:00", ".5",
            "é", "٣", "\u{0301}",
        ]
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var files: [String] = []
        var expectations: [String: Bool] = [:]
        let fields = ["phoneNumber", "emailAddress", "originatingIp", "occurredAt"]
        for index in 0..<800 {
            let field = fields[index % fields.count]
            var value = ""
            for _ in 0..<(1 + Int(generator.next() % 8)) { value += pieces[Int(generator.next() % UInt64(pieces.count))] }
            if index % 16 == 0 { value = "+4365012345" + String(index % 7) }
            if index % 16 == 1 { value = "a@b" }
            if index % 16 == 2 { value = "10.0.0." + String(index % 300) }
            if index % 16 == 3 { value = "2025-01-0" + String(index % 10) + "T00:00:00Z" }
            var object: [String: String] = ["externalId": "e", "accountLifecycleEvent": "create", "phoneNumber": "+436501234567"]
            object[field] = value
            let data = try JSONSerialization.data(withJSONObject: object)
            let file = directory.file("generated-\(index).json")
            try data.write(to: URL(fileURLWithPath: file))
            files.append(file)
            if case .success = try Self.swiftVerdict(file) { expectations[file] = true } else { expectations[file] = false }
        }
        let verdicts = try Self.validate(schema: "lifecycle-event.schema.json", files: files)
        var agreed = 0
        for file in files {
            let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? "?"
            #expect(verdicts[file]?.valid == expectations[file], "schema and decoder disagree on \(text)")
            if verdicts[file]?.valid == expectations[file] { agreed += 1 }
        }
        #expect(agreed == files.count)
        #expect(expectations.values.contains(true) && expectations.values.contains(false))
    }

    /// The Python side: strict UTF-8 and JSON (NaN/Infinity and lone surrogates rejected, as the decoder does),
    /// Draft 2020-12 with a date-time format checker equivalent to rfc3339-validator (written out, so that the
    /// result does not depend on optional packages). Prints one JSON verdict per file.
    static let validatorScript = #"""
import json, re, sys
from jsonschema import Draft202012Validator, FormatChecker

# RFC 3339 date-time as rfc3339-validator checks it (jsonschema's own date-time checker when installed),
# written out here so that the result does not depend on optional packages.
DATE_TIME = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])-([0-9]{2})[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])")

def days_in(year, month):
    if month == 2:
        return 29 if (year % 4 == 0 and year % 100 != 0) or year % 400 == 0 else 28
    return 30 if month in (4, 6, 9, 11) else 31

checker = FormatChecker(formats=())
@checker.checks("date-time")
def is_date_time(value):
    if not isinstance(value, str):
        return True
    m = DATE_TIME.fullmatch(value)
    if m is None:
        return False
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    return year >= 1 and 1 <= day <= days_in(year, month)

def reject_constant(name):
    raise ValueError("non-standard JSON constant " + name)

def check_text(value):
    # Lone surrogates (from \ud800 escapes) are not Unicode text: encoding them to UTF-8 fails.
    if isinstance(value, str):
        value.encode("utf-8")
    elif isinstance(value, list):
        for item in value:
            check_text(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key)
            check_text(item)

def load(path):
    raw = open(path, "rb").read()
    text = raw.decode("utf-8")
    document = json.loads(text, parse_constant=reject_constant)
    check_text(document)
    return document

schema = json.load(open(sys.argv[1], encoding="utf-8"))
Draft202012Validator.check_schema(schema)
validator = Draft202012Validator(schema, format_checker=checker)
for path in sys.argv[2:]:
    try:
        document = load(path)
    except (UnicodeError, ValueError, RecursionError) as error:
        print(json.dumps({"file": path, "valid": False, "error": "not JSON: " + str(error)[:200]}))
        continue
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    print(json.dumps({"file": path, "valid": not errors, "error": errors[0].message[:200] if errors else None}))
"""#
}

/// A corpus test failure with an explanation.
struct CorpusError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
