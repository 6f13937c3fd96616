// A number scoring record read from the parsed answer; member names as in the `Decodable` form's coding keys.

extension NumberScoringRecord.Fields: JSONTreeReadable {
    init(reading object: JSONTreeReader) throws(ScoringError) {
        date = try object.string("date")
        msisdn = try object.requiredString("msisdn")
        response = try object.requiredInt("response")
        phone = try object.object("phone")
        scoring = try object.object("scoring")
        security = try object.object("security")
        socialPresence = try object.objectsByName("social_presence")
    }
}

extension NumberScoringRecord.Phone: JSONTreeReadable {
    init(reading object: JSONTreeReader) throws(ScoringError) {
        countryCallingCode = try object.string("country_calling_code")
        countryName = try object.string("country_name")
        currentNetworkMobileCode = try object.string("current_network_mobile_code")
        firstSeen = try object.string("first_seen")
        currentNetworkName = try object.string("current_network_name")
        initialNetworkName = try object.string("initial_network_name")
        initialNetworkMobileCode = try object.string("initial_network_mobile_code")
        firstPorted = try object.string("first_ported")
        lastPorted = try object.string("last_ported")
        mobileCountryCode = try object.string("mobile_country_code")
        portedTimes = try object.int("ported_times")
        type = try object.string("type")
    }
}

extension NumberScoringRecord.Scoring: JSONTreeReadable {
    init(reading object: JSONTreeReader) throws(ScoringError) {
        credibility = try object.string("credibility")
    }
}

extension NumberScoringRecord.Security: JSONTreeReadable {
    init(reading object: JSONTreeReader) throws(ScoringError) {
        dataBreachesCount = try object.int("data_breaches_count")
        dataBreachesFirstBreach = try object.string("data_breaches_first_breach")
        dataBreachesLastBreach = try object.string("data_breaches_last_breach")
        isDisposable = try object.string("is_disposable")
    }
}

extension NumberScoringRecord.SocialPresence: JSONTreeReadable {
    init(reading object: JSONTreeReader) throws(ScoringError) {
        has = try object.string("has")
        isBusiness = try object.string("is_business")
    }
}
