import Foundation
import Logging
import RiskEvents
import RiskPipeline

/// A swift-log handler writing one JSON object per line to standard error, with phone numbers masked and
/// credentials redacted in the message and every metadata value.
struct JSONLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level
    let label: String

    init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var line: [UInt8] = []
        line.reserveCapacity(256)
        line.append(UInt8(ascii: "{"))
        append("time", RFC3339Timestamp.string(from: Date()), to: &line, first: true)
        append("level", event.level.rawValue, to: &line)
        append("logger", label, to: &line)
        append("message", Self.clean("\(event.message)"), to: &line)
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) where !Self.reserved.contains(key) {
            append(key, Self.clean("\(value)"), to: &line)
        }
        line.append(contentsOf: Array("}\n".utf8))
        FileHandle.standardError.write(Data(line))
    }

    private static let reserved: Set<String> = ["time", "level", "logger", "message"]

    /// Masks phone numbers and redacts credentials.
    static func clean(_ text: String) -> String {
        DeadLetter.sanitise(PhoneNumberMask.maskNumbers(in: text), limit: 4_000)
    }

    private func append(_ key: String, _ value: String, to line: inout [UInt8], first: Bool = false) {
        if !first { line.append(UInt8(ascii: ",")) }
        ScoredEventEncoder.writeString(key, to: &line)
        line.append(UInt8(ascii: ":"))
        ScoredEventEncoder.writeString(value, to: &line)
    }
}
