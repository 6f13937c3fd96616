import Configuration
import Foundation

/// A provider of secrets kept in files (Docker and Kubernetes secrets): a secret setting's value is the trimmed
/// contents of the file that its `<NAME>_FILE` names in the upstream provider.
struct SecretFileProvider: ConfigProvider, ConfigSnapshot {
    /// Where the `<NAME>_FILE` settings are looked up.
    let upstream: any ConfigProvider
    /// Reads a file's text.
    let readFile: @Sendable (String) throws -> String

    /// A file that `<NAME>_FILE` names and that cannot be read; names the setting and the path, never a value.
    struct UnreadableFile: Error, CustomStringConvertible {
        /// `<NAME>_FILE`.
        let name: String
        /// The path it names.
        let path: String

        var description: String { "\(name): cannot read \(path)" }
    }

    var providerName: String { "SecretFileProvider[\(upstream.providerName)]" }

    func value(forKey key: AbsoluteConfigKey, type: ConfigType) throws -> LookupResult {
        let encodedKey = key.description
        guard type == .string, let setting = Setting.allCases.first(where: { $0.key.components == key.components }),
            let fileName = setting.fileName
        else {
            return LookupResult(encodedKey: encodedKey, value: nil)
        }
        let pathResult = try upstream.value(forKey: AbsoluteConfigKey(setting.fileKey), type: .string)
        guard case .string(let path)? = pathResult.value?.content, !path.isEmpty else {
            return LookupResult(encodedKey: encodedKey, value: nil)
        }
        let text: String
        do {
            text = try readFile(path)
        } catch {
            throw UnreadableFile(name: fileName, path: path)
        }
        let secret = ConfigValue(.string(text.trimmingCharacters(in: .whitespacesAndNewlines)), isSecret: true)
        return LookupResult(encodedKey: encodedKey, value: secret)
    }

    func fetchValue(forKey key: AbsoluteConfigKey, type: ConfigType) async throws -> LookupResult {
        try value(forKey: key, type: type)
    }

    func watchValue<Return: ~Copyable>(
        forKey key: AbsoluteConfigKey,
        type: ConfigType,
        updatesHandler: nonisolated(nonsending) (ConfigUpdatesAsyncSequence<Result<LookupResult, any Error>, Never>) async throws
            -> Return
    ) async throws -> Return {
        try await watchValueFromValue(forKey: key, type: type, updatesHandler: updatesHandler)
    }

    func snapshot() -> any ConfigSnapshot { self }

    func watchSnapshot<Return: ~Copyable>(
        updatesHandler: nonisolated(nonsending) (ConfigUpdatesAsyncSequence<any ConfigSnapshot, Never>) async throws -> Return
    ) async throws -> Return {
        try await watchSnapshotFromSnapshot(updatesHandler: updatesHandler)
    }
}
