/// A country the sandbox knows, with its calling code, MCC and real carriers.
public struct Country: Sendable, Hashable {
    /// One mobile network: name, MCC and MNC.
    public struct Carrier: Sendable, Hashable {
        /// Network name.
        public let name: String
        /// Mobile country code.
        public let mcc: String
        /// Mobile network code.
        public let mnc: String
    }

    /// Calling code without `+`, such as `43`.
    public let callingCode: String
    /// English name.
    public let name: String
    /// ISO alpha-2.
    public let iso2: String
    /// ISO alpha-3.
    public let iso3: String
    /// Smallest UTC offset, such as `+1`.
    public let utcOffsetMin: String
    /// Largest UTC offset.
    public let utcOffsetMax: String
    /// The networks, the first being the largest.
    public let carriers: [Carrier]

    init(_ callingCode: String, _ name: String, _ iso2: String, _ iso3: String, _ mcc: String, utc: String, to utcMax: String? = nil, _ carriers: [(String, String)]) {
        self.callingCode = callingCode
        self.name = name
        self.iso2 = iso2
        self.iso3 = iso3
        self.utcOffsetMin = utc
        self.utcOffsetMax = utcMax ?? utc
        self.carriers = carriers.map { entry in
            // An MNC written as "MCC/MNC" overrides the country's MCC (India's Jio, Japan's KDDI).
            let parts = entry.1.split(separator: "/")
            if parts.count == 2 {
                return Carrier(name: entry.0, mcc: String(parts[0]), mnc: String(parts[1]))
            }
            return Carrier(name: entry.0, mcc: mcc, mnc: entry.1)
        }
    }

    /// The country whose calling code starts `msisdn` (longest match), or nil.
    public static func lookup(msisdn: String) -> Country? {
        for length in [3, 2, 1] where msisdn.count > length {
            if let country = byCode[String(msisdn.prefix(length))] { return country }
        }
        return nil
    }

    /// Every known country by calling code.
    public static let byCode: [String: Country] = Dictionary(all.map { ($0.callingCode, $0) }, uniquingKeysWith: { first, _ in first })

    /// Every known country.
    public static let all: [Country] = [
        Country("1", "United States", "US", "USA", "310", utc: "-10", to: "-5", [("AT&T Mobility", "410"), ("T-Mobile USA", "260"), ("Verizon Wireless", "311/480")]),
        Country("7", "Russia", "RU", "RUS", "250", utc: "+2", to: "+12", [("MTS", "01"), ("MegaFon", "02"), ("Beeline", "99"), ("Tele2 Russia", "20")]),
        Country("20", "Egypt", "EG", "EGY", "602", utc: "+2", [("Orange Egypt", "01"), ("Vodafone Egypt", "02"), ("Etisalat Misr", "03")]),
        Country("27", "South Africa", "ZA", "ZAF", "655", utc: "+2", [("Vodacom", "01"), ("MTN South Africa", "10"), ("Cell C", "07")]),
        Country("30", "Greece", "GR", "GRC", "202", utc: "+2", [("Cosmote", "01"), ("Vodafone Greece", "05"), ("Nova", "10")]),
        Country("31", "Netherlands", "NL", "NLD", "204", utc: "+1", [("KPN", "08"), ("Vodafone Libertel", "04"), ("Odido", "16")]),
        Country("32", "Belgium", "BE", "BEL", "206", utc: "+1", [("Proximus", "01"), ("Orange Belgium", "10"), ("BASE", "20")]),
        Country("33", "France", "FR", "FRA", "208", utc: "+1", [("Orange France", "01"), ("SFR", "10"), ("Bouygues Telecom", "20"), ("Free Mobile", "15")]),
        Country("34", "Spain", "ES", "ESP", "214", utc: "+1", [("Movistar", "07"), ("Vodafone Spain", "01"), ("Orange Spain", "03"), ("Yoigo", "04")]),
        Country("36", "Hungary", "HU", "HUN", "216", utc: "+1", [("Magyar Telekom", "30"), ("Yettel Hungary", "01"), ("One Hungary", "70")]),
        Country("39", "Italy", "IT", "ITA", "222", utc: "+1", [("TIM", "01"), ("Vodafone Italia", "10"), ("WindTre", "88"), ("Iliad Italia", "50")]),
        Country("40", "Romania", "RO", "ROU", "226", utc: "+2", [("Orange Romania", "10"), ("Vodafone Romania", "01"), ("Telekom Romania Mobile", "03"), ("Digi.Mobil", "05")]),
        Country("41", "Switzerland", "CH", "CHE", "228", utc: "+1", [("Swisscom", "01"), ("Sunrise", "02"), ("Salt Mobile", "03")]),
        Country("43", "Austria", "AT", "AUT", "232", utc: "+1", [("A1 Telekom Austria", "01"), ("T-Mobile Austria GmbH", "03"), ("Hutchison Drei Austria", "10")]),
        Country("44", "United Kingdom", "GB", "GBR", "234", utc: "+0", [("EE", "30"), ("Vodafone UK", "15"), ("O2 UK", "10"), ("Three UK", "20")]),
        Country("45", "Denmark", "DK", "DNK", "238", utc: "+1", [("TDC", "01"), ("Telenor Denmark", "02"), ("Telia Denmark", "20"), ("3 Denmark", "06")]),
        Country("46", "Sweden", "SE", "SWE", "240", utc: "+1", [("Telia Sverige", "01"), ("Tele2 Sverige", "07"), ("Telenor Sverige", "08"), ("Tre Sverige", "02")]),
        Country("47", "Norway", "NO", "NOR", "242", utc: "+1", [("Telenor Norge", "01"), ("Telia Norge", "02"), ("Ice", "14")]),
        Country("48", "Poland", "PL", "POL", "260", utc: "+1", [("Plus", "01"), ("T-Mobile Polska", "02"), ("Orange Polska", "03"), ("Play", "06")]),
        Country("49", "Germany", "DE", "DEU", "262", utc: "+1", [("Telekom Deutschland", "01"), ("Vodafone GmbH", "02"), ("Telefónica Germany", "03"), ("1&1 Mobilfunk", "23")]),
        Country("52", "Mexico", "MX", "MEX", "334", utc: "-8", to: "-5", [("Telcel", "020"), ("AT&T Mexico", "050"), ("Movistar Mexico", "030")]),
        Country("54", "Argentina", "AR", "ARG", "722", utc: "-3", [("Personal", "34"), ("Movistar Argentina", "07"), ("Claro Argentina", "310")]),
        Country("55", "Brazil", "BR", "BRA", "724", utc: "-5", to: "-2", [("Vivo", "06"), ("Claro Brasil", "05"), ("TIM Brasil", "02")]),
        Country("61", "Australia", "AU", "AUS", "505", utc: "+8", to: "+10", [("Telstra", "01"), ("Optus", "02"), ("Vodafone Australia", "03")]),
        Country("62", "Indonesia", "ID", "IDN", "510", utc: "+7", to: "+9", [("Telkomsel", "10"), ("Indosat Ooredoo Hutchison", "01"), ("XL Axiata", "11")]),
        Country("63", "Philippines", "PH", "PHL", "515", utc: "+8", [("Globe Telecom", "02"), ("Smart Communications", "03"), ("DITO Telecommunity", "66")]),
        Country("65", "Singapore", "SG", "SGP", "525", utc: "+8", [("Singtel", "01"), ("StarHub", "05"), ("M1", "03")]),
        Country("81", "Japan", "JP", "JPN", "440", utc: "+9", [("NTT Docomo", "10"), ("SoftBank", "20"), ("KDDI au", "441/51")]),
        Country("82", "South Korea", "KR", "KOR", "450", utc: "+9", [("SK Telecom", "05"), ("KT", "08"), ("LG U+", "06")]),
        Country("86", "China", "CN", "CHN", "460", utc: "+8", [("China Mobile", "00"), ("China Unicom", "01"), ("China Telecom", "11")]),
        Country("90", "Turkey", "TR", "TUR", "286", utc: "+3", [("Turkcell", "01"), ("Vodafone Turkey", "02"), ("Türk Telekom", "03")]),
        Country("91", "India", "IN", "IND", "404", utc: "+5.5", [("Reliance Jio", "405/857"), ("Bharti Airtel", "10"), ("Vodafone Idea", "20")]),
        Country("234", "Nigeria", "NG", "NGA", "621", utc: "+1", [("MTN Nigeria", "30"), ("Airtel Nigeria", "20"), ("Globacom", "50")]),
        Country("254", "Kenya", "KE", "KEN", "639", utc: "+3", [("Safaricom", "02"), ("Airtel Kenya", "03"), ("Telkom Kenya", "07")]),
        Country("351", "Portugal", "PT", "PRT", "268", utc: "+0", [("MEO", "06"), ("Vodafone Portugal", "01"), ("NOS", "03")]),
        Country("353", "Ireland", "IE", "IRL", "272", utc: "+0", [("Vodafone Ireland", "01"), ("Three Ireland", "05"), ("Eir", "03")]),
        Country("358", "Finland", "FI", "FIN", "244", utc: "+2", [("Elisa", "05"), ("DNA", "12"), ("Telia Finland", "91")]),
        Country("380", "Ukraine", "UA", "UKR", "255", utc: "+2", [("Kyivstar", "03"), ("Vodafone Ukraine", "01"), ("lifecell", "06")]),
        Country("385", "Croatia", "HR", "HRV", "219", utc: "+1", [("Hrvatski Telekom", "01"), ("A1 Hrvatska", "10"), ("Telemach Hrvatska", "02")]),
        Country("386", "Slovenia", "SI", "SVN", "293", utc: "+1", [("Telekom Slovenije", "41"), ("A1 Slovenija", "40"), ("Telemach", "70")]),
        Country("420", "Czechia", "CZ", "CZE", "230", utc: "+1", [("T-Mobile Czech Republic", "01"), ("O2 Czech Republic", "02"), ("Vodafone Czech Republic", "03")]),
        Country("966", "Saudi Arabia", "SA", "SAU", "420", utc: "+3", [("stc", "01"), ("Mobily", "03"), ("Zain KSA", "04")]),
        Country("971", "United Arab Emirates", "AE", "ARE", "424", utc: "+4", [("e& (Etisalat)", "02"), ("du", "03")]),
        Country("972", "Israel", "IL", "ISR", "425", utc: "+2", [("Partner", "01"), ("Cellcom", "02"), ("Pelephone", "03")]),
    ]
}
