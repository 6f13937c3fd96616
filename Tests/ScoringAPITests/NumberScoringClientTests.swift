import ScoringAPI
import ScoringSimulator
import Testing

@Suite struct NumberScoringClientTests {
    @Test func recordsAreMatchedByMsisdnWithTypedAndRawFields() async throws {
        try await SandboxFixture.run { fixture in
            let numbers = [try number("+385912345678"), try number("+436501234567"), try number("+14155550100")]
            let answer = try await fixture.numberScoringClient().lookup(numbers)
            for phone in numbers {
                let record = try answer.result(for: phone.msisdn).get()
                #expect(record.msisdn == phone.msisdn)
                #expect(record.responseCode == .success)
                #expect(record.raw["msisdn"] == .string(phone.msisdn))
                #expect(record.credibility != nil)
                #expect(record.fields.socialPresence?.count == 13)
                #expect(record.fields.socialPresence?["whatsapp"]?.isBusiness != nil)
                #expect(record.fields.phone?.mobileCountryCode?.count == 3)
            }
            let croatia = try answer.result(for: "385912345678").get()
            #expect(croatia.fields.phone?.countryName == "Croatia")
            #expect(croatia.fields.phone?.countryCallingCode == "385")
            #expect(fixture.sandbox.stats.totals.numberScoringRequests == 1)
            #expect(fixture.sandbox.stats.numberScoringByMsisdn["385912345678"] == 1)
        }
    }

    @Test func everyResponseCode() async throws {
        let expectations: [(Int, ScoringError.Disposition)] = [
            (1, .permanent), (2, .accountLevel), (3, .accountLevel), (4, .retriable),
            (5, .permanent), (6, .permanent), (7, .retriable), (8, .accountLevel),
        ]
        try await SandboxFixture.run { fixture in
            let numbers = try expectations.map { code, _ throws(ScoringError) in try number("+436501299990\(code)") }
            let normal = try number("+436501234567")
            let answer = try await fixture.numberScoringClient().lookup(numbers + [normal])
            for ((code, disposition), phone) in zip(expectations, numbers) {
                let result = answer.result(for: phone.msisdn)
                #expect(answer.records[phone.msisdn]?.response == code)
                guard case .failure(let error) = result else {
                    Issue.record("code \(code) succeeded")
                    continue
                }
                #expect(error.code == "\(code)")
                #expect(error.disposition == disposition)
                #expect(error.kind == .numberScoring(response: code))
            }
            #expect((try? answer.result(for: normal.msisdn).get()) != nil)
        }
    }

    @Test func code0IsSuccessAndUnknownCountryIsNotResolved() async throws {
        try await SandboxFixture.run { fixture in
            let answer = try await fixture.numberScoringClient().lookup([try number("+8881234567")])
            #expect(answer.records["8881234567"]?.response == 6)
        }
    }

    @Test func httpFaultsFailTheWholeRequest() async throws {
        let expectations = SandboxFixture.httpFaultExpectations
        try await SandboxFixture.run { fixture in
            let client = fixture.numberScoringClient()
            for (digit, code, disposition, retryAfter) in expectations {
                let numbers = [try number("+436501234567"), try number("+436501299993\(digit)")]
                let error = await scoringError { () async throws(ScoringError) in try await client.lookup(numbers) }
                #expect(error?.code == code, "suffix 99993\(digit)")
                #expect(error?.disposition == disposition, "suffix 99993\(digit)")
                #expect(error?.retryAfter == retryAfter, "suffix 99993\(digit)")
            }
        }
    }

    @Test func wrongApiKeyIs401AccountLevel() async throws {
        try await SandboxFixture.run { fixture in
            let error = await scoringError { () async throws(ScoringError) in
                try await fixture.numberScoringClient(apiKey: "bad-key-2718").lookup([try number("+436501234567")])
            }
            #expect(error?.code == "http-401")
            #expect(error?.disposition == .accountLevel)
        }
    }

    @Test func transientNumberFailsWithCode4ThenSucceeds() async throws {
        try await SandboxFixture.run { fixture in
            let client = fixture.numberScoringClient()
            let phone = try number("+4365012999913")
            for _ in 0..<3 {
                let answer = try await client.lookup([phone])
                guard case .failure(let error) = answer.result(for: phone.msisdn) else {
                    Issue.record("expected code 4")
                    continue
                }
                #expect(error.code == "4")
                #expect(error.isRetriable)
            }
            #expect((try? (try await client.lookup([phone])).result(for: phone.msisdn).get()) != nil)
        }
    }

    @Test func forcedAccountLevelMode() async throws {
        try await SandboxFixture.run { fixture in
            fixture.sandbox.setMode(SandboxMode(numberScoring: 3))
            let answer = try await fixture.numberScoringClient().lookup([try number("+436501234567")])
            guard case .failure(let error) = answer.result(for: "436501234567") else {
                Issue.record("expected code 3")
                return
            }
            #expect(error.code == "3")
            #expect(error.disposition == .accountLevel)
        }
    }
}
