import ScoringAPI

/// Everything the sandbox says about one number, derived deterministically from its digits.
struct NumberProfile: Sendable {
    /// The platforms of `social_presence`.
    static let platforms = [
        "amazon", "apple", "bukalapak", "facebook", "flipkart", "google", "instagram", "linkedin", "snapchat",
        "telegram", "viber", "whatsapp", "x",
    ]

    let msisdn: String
    let country: Country
    let nationalNumber: String
    let initialCarrier: Country.Carrier
    let currentCarrier: Country.Carrier
    let portedTimes: Int
    let firstSeenDay: Int
    let firstPortedDay: Int?
    let lastPortedDay: Int?
    /// Number scoring type: mobile, landline, voip or toll_free.
    let lineType: String
    let score: Int
    let breaches: Int
    let firstBreachDay: Int?
    let lastBreachDay: Int?
    let isDisposable: String
    let social: [String: (has: String, isBusiness: String?)]

    /// Derives the profile, or nil when the country code is not in the sandbox's table.
    init?(msisdn: String) {
        guard let country = Country.lookup(msisdn: msisdn), !country.carriers.isEmpty else { return nil }
        var random = SeededGenerator(seed: msisdn)
        self.msisdn = msisdn
        self.country = country
        self.nationalNumber = String(msisdn.dropFirst(country.callingCode.count))

        let roll = random.unit()
        lineType = roll < 0.85 ? "mobile" : roll < 0.93 ? "landline" : roll < 0.98 ? "voip" : "toll_free"

        let initialIndex = random.below(country.carriers.count)
        initialCarrier = country.carriers[initialIndex]
        let portRoll = random.unit()
        let ported = lineType == "mobile" ? (portRoll < 0.70 ? 0 : portRoll < 0.90 ? 1 : portRoll < 0.97 ? 2 : 3 + random.below(3)) : 0
        portedTimes = ported
        if ported > 0, country.carriers.count > 1 {
            let shift = 1 + random.below(country.carriers.count - 1)
            currentCarrier = country.carriers[(initialIndex + shift) % country.carriers.count]
        } else {
            currentCarrier = initialCarrier
        }

        let start = CivilDate.days(year: 2008, month: 1, day: 1)
        let end = CivilDate.days(year: 2025, month: 6, day: 30)
        firstSeenDay = start + random.below(end - start - 400)
        if ported > 0 {
            let first = firstSeenDay + 30 + random.below(max(end - firstSeenDay - 60, 1))
            firstPortedDay = first
            lastPortedDay = ported == 1 ? first : first + random.below(max(end - first, 1))
        } else {
            firstPortedDay = nil
            lastPortedDay = nil
        }

        // Score 0...1000, skewed low: about 45% low, 26% medium-low, 15% medium-high, 14% high.
        var base = pow15(random.unit()) * 1000
        if lineType == "voip" { base += 150 }
        if ported >= 3 { base += 80 }
        score = min(1000, max(0, Int(base)))

        let breachRoll = random.unit()
        breaches = breachRoll < 0.5 ? 0 : breachRoll < 0.8 ? 1 + random.below(2) : 3 + random.below(6)
        if breaches > 0 {
            let breachStart = CivilDate.days(year: 2012, month: 1, day: 1)
            let first = breachStart + random.below(end - breachStart - 30)
            firstBreachDay = first
            lastBreachDay = breaches == 1 ? first : first + random.below(max(end - first, 1))
        } else {
            firstBreachDay = nil
            lastBreachDay = nil
        }
        isDisposable = lineType == "voip" ? (random.chance(0.5) ? "yes" : "no") : (random.chance(0.03) ? "n/a" : "no")

        var social: [String: (has: String, isBusiness: String?)] = [:]
        let coverage = random.chance(0.04)  // a few numbers where no lookup was possible
        for platform in Self.platforms {
            let likelihood: Double
            switch platform {
            case "bukalapak": likelihood = country.iso2 == "ID" ? 0.35 : 0.0
            case "flipkart": likelihood = country.iso2 == "IN" ? 0.5 : 0.0
            case "whatsapp", "facebook", "google": likelihood = 0.8
            case "instagram", "telegram", "amazon", "apple": likelihood = 0.55
            default: likelihood = 0.35
            }
            let has = coverage ? "n/a" : (random.chance(likelihood) ? "yes" : "no")
            let isBusiness: String? = platform == "whatsapp" ? (has == "yes" && random.chance(0.12) ? "yes" : "no") : nil
            social[platform] = (has, isBusiness)
        }
        self.social = social
    }

    /// Credibility, the inverse of the risk score.
    var credibility: String {
        switch score {
        case ...150: return "very_high"
        case ...300: return "high"
        case ...600: return "intermediate"
        case ...800: return "low"
        default: return "very_low"
        }
    }

    /// The sandbox's bands: 0-300 low/allow, 301-600 medium-low/allow, 601-800 medium-high/flag, 801-1000 high/block.
    var risk: (level: String, recommendation: String) {
        switch score {
        case ...300: return ("low", "allow")
        case ...600: return ("medium-low", "allow")
        case ...800: return ("medium-high", "flag")
        default: return ("high", "block")
        }
    }

    /// TeleSign phone type code and name consistent with `lineType`.
    var phoneType: (code: String, description: String) {
        switch lineType {
        case "landline": return ("1", "FIXED_LINE")
        case "voip": return ("5", "VOIP")
        case "toll_free": return ("4", "TOLL_FREE")
        default: return ("2", "MOBILE")
        }
    }
}

private func pow15(_ value: Double) -> Double {
    value * value.squareRoot()
}
