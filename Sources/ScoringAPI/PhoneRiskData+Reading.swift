// The phone risk `data` object read from the parsed answer; member names as in the `Decodable` form.

extension PhoneRiskData: JSONTreeReadable {
    init(reading object: JSONTreeReader) throws(ScoringError) {
        referenceId = try object.string("referenceId")
        externalId = try object.string("externalId")
        status = try object.object("status")
        numbering = try object.object("numbering")
        riskInsights = try object.object("riskInsights")
        phoneType = try object.object("phoneType")
        location = try object.object("location")
        carrier = try object.object("carrier")
        blocklisting = try object.object("blocklisting")
        risk = try object.object("risk")
        errors = try object.objects("errors")
    }
}

extension PhoneRiskData.Status: JSONTreeReadable {
    init(reading object: JSONTreeReader) throws(ScoringError) {
        updatedOn = try object.string("updatedOn")
        code = try object.int("code")
        description = try object.string("description")
    }
}

extension PhoneRiskData.Numbering: JSONTreeReadable {
    init(reading object: JSONTreeReader) throws(ScoringError) {
        original = try object.object("original")
        cleansing = try object.object("cleansing")
    }
}

extension PhoneRiskData.Numbering.Original: JSONTreeReadable {
    init(reading object: JSONTreeReader) throws(ScoringError) {
        completePhoneNumber = try object.string("completePhoneNumber")
        countryCode = try object.string("countryCode")
        phoneNumber = try object.string("phoneNumber")
    }
}

extension PhoneRiskData.Numbering.Cleansing: JSONTreeReadable {
    init(reading object: JSONTreeReader) throws(ScoringError) {
        call = try object.object("call")
        sms = try object.object("sms")
    }
}

extension PhoneRiskData.Numbering.Cleansed: JSONTreeReadable {
    init(reading object: JSONTreeReader) throws(ScoringError) {
        countryCode = try object.string("countryCode")
        phoneNumber = try object.string("phoneNumber")
        cleansedCode = try object.int("cleansedCode")
        minLength = try object.int("minLength")
        maxLength = try object.int("maxLength")
    }
}

extension PhoneRiskData.RiskInsights: JSONTreeReadable {
    init(reading object: JSONTreeReader) throws(ScoringError) {
        status = try object.int("status")
        category = try object.ints("category")
        a2P = try object.ints("a2P")
        p2P = try object.ints("p2P")
        numberType = try object.ints("numberType")
        ip = try object.ints("ip")
        email = try object.ints("email")
    }
}

extension PhoneRiskData.PhoneType: JSONTreeReadable {
    init(reading object: JSONTreeReader) throws(ScoringError) {
        code = try object.string("code")
        description = try object.string("description")
    }
}

extension PhoneRiskData.Location: JSONTreeReadable {
    init(reading object: JSONTreeReader) throws(ScoringError) {
        city = try object.string("city")
        state = try object.string("state")
        zip = try object.string("zip")
        metroCode = try object.string("metroCode")
        county = try object.string("county")
        country = try object.object("country")
        coordinates = try object.object("coordinates")
        timeZone = try object.object("timeZone")
    }
}

extension PhoneRiskData.Location.Country: JSONTreeReadable {
    init(reading object: JSONTreeReader) throws(ScoringError) {
        name = try object.string("name")
        iso2 = try object.string("iso2")
        iso3 = try object.string("iso3")
    }
}

extension PhoneRiskData.Location.Coordinates: JSONTreeReadable {
    init(reading object: JSONTreeReader) throws(ScoringError) {
        latitude = try object.double("latitude")
        longitude = try object.double("longitude")
    }
}

extension PhoneRiskData.Location.TimeZone: JSONTreeReadable {
    init(reading object: JSONTreeReader) throws(ScoringError) {
        name = try object.string("name")
        utcOffsetMin = try object.string("utcOffsetMin")
        utcOffsetMax = try object.string("utcOffsetMax")
    }
}

extension PhoneRiskData.Carrier: JSONTreeReadable {
    init(reading object: JSONTreeReader) throws(ScoringError) {
        name = try object.string("name")
    }
}

extension PhoneRiskData.Blocklisting: JSONTreeReadable {
    init(reading object: JSONTreeReader) throws(ScoringError) {
        blocked = try object.bool("blocked")
        blockCode = try object.int("blockCode")
        blockDescription = try object.string("blockDescription")
    }
}

extension PhoneRiskData.Risk: JSONTreeReadable {
    init(reading object: JSONTreeReader) throws(ScoringError) {
        level = try object.string("level")
        recommendation = try object.string("recommendation")
        score = try object.int("score")
    }
}

extension PhoneRiskData.ProviderError: JSONTreeReadable {
    init(reading object: JSONTreeReader) throws(ScoringError) {
        code = try object.int("code")
        description = try object.string("description")
    }
}
