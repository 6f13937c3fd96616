extension String {
    /// The string without trailing `/` characters, so paths can be appended to a base URL.
    func trimmingTrailingSlashes() -> String {
        var text = self
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }
}
