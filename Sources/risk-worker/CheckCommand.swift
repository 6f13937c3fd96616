import ArgumentParser
import Foundation
import RiskPipeline
import ScoringAPI
import Settings

/// `risk-worker check`: calls both providers once for one number and prints what they said.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Calls both providers once for one phone number and prints a summary (uses the same settings as run)."
    )

    @Argument(help: "The phone number, E.164 (such as +436501234567).")
    var phoneNumber: String

    @Option(help: "The lifecycle event to score: create, sign-in, transact, update or delete.")
    var event = "sign-in"

    @Option(help: "An e-mail address to send with the event.")
    var email: String?

    @OptionGroup(title: "Settings (each also an environment variable)")
    var settingFlags: SettingFlags

    @Flag(help: "Print the providers' raw answers as JSON.")
    var json = false

    func run() async throws {
        let settings = try settingFlags.load()
        guard let lifecycleEvent = AccountLifecycleEvent(rawValue: event) else {
            throw usageError("--event: '\(event)' is not create, sign-in, transact, update or delete")
        }
        let number: PhoneNumber
        do {
            number = try PhoneNumber(phoneNumber)
        } catch {
            throw usageError("'\(phoneNumber)' is not an E.164 phone number (+, then 8 to 15 digits)")
        }
        let providers = ProviderConnections(settings: settings.providers, poolSize: 16)
        let request = PhoneRiskRequest(phoneNumber: number, accountLifecycleEvent: lifecycleEvent, emailAddress: email)
        async let risk = outcome { () async throws(ScoringError) in try await providers.phoneRisk.score(request) }
        async let scoring = outcome { () async throws(ScoringError) in
            try await providers.numberScoring.lookup([number]).result(for: number.msisdn).get()
        }
        let (riskResult, scoringResult) = await (risk, scoring)
        await providers.shutdown()

        if json {
            let riskJSON = (try? riskResult.get().rawData.jsonString()) ?? "null"
            let scoringJSON = (try? scoringResult.get().raw.jsonString()) ?? "null"
            print(#"{"phoneRisk":\#(riskJSON),"numberScoring":\#(scoringJSON)}"#)
        } else {
            print("number          \(number.e164)")
            switch riskResult {
            case .success(let result):
                print("risk            \(result.riskLevel ?? "?") (score \(result.score.map(String.init) ?? "?")), recommendation \(result.recommendation ?? "?")\(result.isPartial ? ", partial" : "")")
                print("phone type      \(result.phoneTypeDescription ?? "?"), carrier \(result.carrierName ?? "?"), \(result.countryName ?? "?")")
                print("blocked         \(result.isBlocked.map { $0 ? "yes" : "no" } ?? "?")")
            case .failure(let error):
                print("phone risk      failed: \(error.code) \(error.message)")
            }
            switch scoringResult {
            case .success(let record):
                let phone = record.fields.phone
                print("credibility     \(record.credibility ?? "?")")
                print("network         \(phone?.currentNetworkName ?? "?") (first \(phone?.initialNetworkName ?? "?")), ported \(phone?.portedTimes.map(String.init) ?? "?") times, last \(phone?.lastPorted ?? "never")")
                let security = record.fields.security
                print("breaches        \(security?.dataBreachesCount.map(String.init) ?? "?") (last \(security?.dataBreachesLastBreach ?? "-")), disposable \(security?.isDisposable ?? "?")")
            case .failure(let error):
                print("number scoring  failed: \(error.code) \(error.message)")
            }
        }
        if case .failure = riskResult { throw ExitCode(1) }
        if case .failure = scoringResult { throw ExitCode(1) }
    }
}

/// The result of a provider call, success or its error.
func outcome<T: Sendable>(_ body: () async throws(ScoringError) -> T) async -> Result<T, ScoringError> {
    do {
        return .success(try await body())
    } catch {
        return .failure(error)
    }
}

/// Prints one line naming the bad input and returns the exit code 2 to throw.
func usageError(_ line: String) -> ExitCode {
    FileHandle.standardError.write(Data("risk-worker: \(line)\n".utf8))
    return ExitCode(2)
}
