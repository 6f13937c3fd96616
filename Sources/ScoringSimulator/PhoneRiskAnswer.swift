import ScoringAPI

/// Builds phone risk response bodies in exactly the seed's shape.
enum PhoneRiskAnswer {
    /// A complete (300) or partial (301) answer for `profile`.
    static func success(
        profile: NumberProfile, e164: String, externalId: String?, statusCode: Int, now: Double
    ) -> JSONValue {
        let country = profile.country
        let national = profile.nationalNumber
        let minLength = max(4, national.count - 3)
        let maxLength = national.count + 3
        let cleansed: JSONValue = [
            "countryCode": .string(country.callingCode),
            "phoneNumber": .string(national),
            "cleansedCode": 100,
            "minLength": .integer(Int64(minLength)),
            "maxLength": .integer(Int64(maxLength)),
        ]
        let risk = profile.risk
        let phoneType = profile.phoneType
        var insights = SeededGenerator(seed: profile.msisdn, salt: 7)
        let categoryPool: [Int64] = profile.score > 600 ? [10020, 10030, 10040] : [10010]
        let a2PPool: [Int64] = [22001, 20011, 20101, 20102, 22003]
        let p2PPool: [Int64] = profile.score > 600 ? [30101, 30102, 30201] : [30201, 30202]
        let blocked = profile.score > 950
        var data: [String: JSONValue] = [
            "referenceId": .string(referenceId(profile.msisdn, externalId)),
            "externalId": externalId.map(JSONValue.string) ?? .null,
            "status": status(statusCode, now: now),
            "numbering": [
                "original": [
                    "completePhoneNumber": .string(e164),
                    "countryCode": .string(country.callingCode),
                    "phoneNumber": .string(national),
                ],
                "cleansing": ["call": cleansed, "sms": cleansed],
            ],
            "riskInsights": [
                "status": 800,
                "category": [.integer(categoryPool[insights.below(categoryPool.count)])],
                "a2P": .array(pick(a2PPool, count: 1 + insights.below(3), &insights)),
                "p2P": .array(pick(p2PPool, count: 1, &insights)),
                "numberType": [],
                "ip": [],
                "email": [],
            ],
            "phoneType": ["code": .string(phoneType.code), "description": .string(phoneType.description)],
            "location": [
                "city": "Countrywide",
                "state": nil,
                "zip": nil,
                "metroCode": nil,
                "county": nil,
                "country": [
                    "name": .string(country.name), "iso2": .string(country.iso2), "iso3": .string(country.iso3),
                ],
                "coordinates": ["latitude": nil, "longitude": nil],
                "timeZone": [
                    "name": nil, "utcOffsetMin": .string(country.utcOffsetMin),
                    "utcOffsetMax": .string(country.utcOffsetMax),
                ],
            ],
            "carrier": ["name": .string(profile.currentCarrier.name)],
            "blocklisting": [
                "blocked": .bool(blocked),
                "blockCode": blocked ? 1 : 0,
                "blockDescription": blocked ? "Blocked by sandbox policy" : "Not blocked",
            ],
            "risk": [
                "level": .string(risk.level),
                "recommendation": .string(risk.recommendation),
                "score": .integer(Int64(profile.score)),
            ],
        ]
        if statusCode == 301 {
            // A partial answer: the sandbox leaves out risk insights and location.
            data["riskInsights"] = nil
            data["location"] = nil
        }
        return ["status": true, "data": .object(data)]
    }

    /// A failed answer: `status: false`, the status code, and TeleSign errors inside `data`.
    static func failure(
        msisdn: String, externalId: String?, statusCode: Int, errors: [(Int, String)], now: Double
    ) -> JSONValue {
        var data: [String: JSONValue] = [
            "referenceId": .string(referenceId(msisdn, externalId)),
            "externalId": externalId.map(JSONValue.string) ?? .null,
            "status": status(statusCode, now: now),
        ]
        if !errors.isEmpty {
            data["errors"] = .array(errors.map { ["code": .integer(Int64($0.0)), "description": .string($0.1)] })
        }
        return ["status": false, "data": .object(data)]
    }

    /// The status code and errors for a forced mode code (500/501/599 as status codes, others as TeleSign errors).
    static func forced(code: Int) -> (status: Int, errors: [(Int, String)]) {
        switch code {
        case 300, 301, 500, 501, 599: return (code, [])
        default:
            let status = PhoneRiskClassification.disposition(forErrorCode: code) == .accountLevel ? 501 : 500
            return (status, [(code, "Forced by the sandbox mode")])
        }
    }

    private static func status(_ code: Int, now: Double) -> JSONValue {
        let text: String
        switch code {
        case 300: text = "Transaction successfully completed"
        case 301: text = "Transaction partially completed"
        case 500: text = "Transaction not attempted"
        case 501: text = "Not authorized"
        case 599: text = "Status not available"
        default: text = "Unknown status"
        }
        return [
            "updatedOn": .string(CivilDate.timestamp(secondsSinceEpoch: now, fractionDigits: 6)),
            "code": .integer(Int64(code)),
            "description": .string(text),
        ]
    }

    private static func referenceId(_ msisdn: String, _ externalId: String?) -> String {
        var random = SeededGenerator(seed: msisdn + "|" + (externalId ?? ""), salt: 3)
        let high = String(random.next(), radix: 16, uppercase: true)
        let low = String(random.next(), radix: 16, uppercase: true)
        return String(repeating: "0", count: 16 - high.count) + high + String(repeating: "0", count: 16 - low.count) + low
    }

    private static func pick(_ pool: [Int64], count: Int, _ random: inout SeededGenerator) -> [JSONValue] {
        var chosen: [Int64] = []
        for _ in 0..<count {
            let value = pool[random.below(pool.count)]
            if !chosen.contains(value) { chosen.append(value) }
        }
        return chosen.map(JSONValue.integer)
    }
}
