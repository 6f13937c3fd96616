/// An outbound HTTP setting that cannot be used (CA file, proxy URL); `description` never shows a proxy password.
public struct InvalidHTTPSetting: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong, naming the file or the (redacted) URL.
    public let message: String

    /// Creates an error with its message.
    init(_ message: String) {
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
