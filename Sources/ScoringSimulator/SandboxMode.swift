/// A code forced on every request until cleared (`POST /_sim/mode`).
public struct SandboxMode: Sendable, Hashable, Codable {
    /// Every number scoring record answers this `response` code.
    public var numberScoring: Int?
    /// Every phone risk request fails with this code: 500, 501 or 599 as a status code, or a TeleSign error code such as 10010.
    public var phoneRisk: Int?

    /// Creates a mode; both nil means normal behaviour.
    public init(numberScoring: Int? = nil, phoneRisk: Int? = nil) {
        self.numberScoring = numberScoring
        self.phoneRisk = phoneRisk
    }
}
