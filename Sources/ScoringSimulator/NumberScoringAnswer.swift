import ScoringAPI

/// Builds number scoring records in the documented shape.
enum NumberScoringAnswer {
    /// A success record (response 0) for `profile`.
    static func success(profile: NumberProfile, now: Double) -> JSONValue {
        var social: [String: JSONValue] = [:]
        for (platform, entry) in profile.social {
            var value: [String: JSONValue] = ["has": .string(entry.has)]
            if let isBusiness = entry.isBusiness { value["is_business"] = .string(isBusiness) }
            social[platform] = .object(value)
        }
        return [
            "date": .string(CivilDate.timestamp(secondsSinceEpoch: now, fractionDigits: 3)),
            "msisdn": .string(profile.msisdn),
            "response": 0,
            "phone": [
                "country_calling_code": .string(profile.country.callingCode),
                "country_name": .string(profile.country.name),
                "current_network_mobile_code": .string(profile.currentCarrier.mnc),
                "current_network_name": .string(profile.currentCarrier.name),
                "first_seen": .string(CivilDate.day(profile.firstSeenDay)),
                "initial_network_name": .string(profile.initialCarrier.name),
                "initial_network_mobile_code": .string(profile.initialCarrier.mnc),
                "first_ported": profile.firstPortedDay.map { .string(CivilDate.day($0)) } ?? .null,
                "last_ported": profile.lastPortedDay.map { .string(CivilDate.day($0)) } ?? .null,
                "mobile_country_code": .string(profile.currentCarrier.mcc),
                "ported_times": .integer(Int64(profile.portedTimes)),
                "type": .string(profile.lineType),
            ],
            "scoring": ["credibility": .string(profile.credibility)],
            "security": [
                "data_breaches_count": .integer(Int64(profile.breaches)),
                "data_breaches_first_breach": profile.firstBreachDay.map { .string(CivilDate.day($0)) } ?? .null,
                "data_breaches_last_breach": profile.lastBreachDay.map { .string(CivilDate.day($0)) } ?? .null,
                "is_disposable": .string(profile.isDisposable),
            ],
            "social_presence": .object(social),
        ]
    }

    /// A failure record: only `date`, `msisdn` and the non-zero `response`.
    static func failure(msisdn: String, response: Int, now: Double) -> JSONValue {
        [
            "date": .string(CivilDate.timestamp(secondsSinceEpoch: now, fractionDigits: 3)),
            "msisdn": .string(msisdn),
            "response": .integer(Int64(response)),
        ]
    }
}
