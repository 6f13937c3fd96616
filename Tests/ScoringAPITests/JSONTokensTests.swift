import ScoringAPI
import Testing

@Suite struct JSONTokensTests {
    /// Runs `piece` on `text` from `start`; the result, or the failure, with where `index` ended.
    private func scan<T>(
        _ text: String, from start: Int = 0, _ piece: (UnsafeBufferPointer<UInt8>, inout Int) throws(JSONTokens.Failure) -> T
    ) -> (Result<T, JSONTokens.Failure>, index: Int) {
        Array(text.utf8).withUnsafeBufferPointer { bytes in
            var index = start
            do throws(JSONTokens.Failure) {
                return (.success(try piece(bytes, &index)), index)
            } catch {
                return (.failure(error), index)
            }
        }
    }

    @Test func numbersAreReadToTheirEndAndSayWhetherTheyAreIntegers() {
        for (text, end, isInteger) in [("0,", 1, true), ("-120]", 4, true), ("0.5e-3 ", 6, false), ("12E+1", 5, false), ("01", 1, true)] {
            let (result, index) = scan(text, JSONTokens.skipNumber)
            #expect(result == .success(isInteger), "\(text)")
            #expect(index == end, "\(text)")
        }
    }

    @Test func aNumberFailsWhereItsDigitIsMissing() {
        for (text, failure, at) in [
            ("-", JSONTokens.Failure.numberWithoutDigit, 1), ("x", .numberWithoutDigit, 0), ("1.", .fractionWithoutDigit, 2),
            ("1.e5", .fractionWithoutDigit, 2), ("2e", .exponentWithoutDigit, 2), ("2e+x", .exponentWithoutDigit, 3),
        ] {
            let (result, index) = scan(text, JSONTokens.skipNumber)
            #expect(throws: failure, "\(text)") { try result.get() }
            #expect(index == at, "\(text)")
        }
    }

    @Test func hexDigitsOfAUnicodeEscape() {
        let (value, end) = scan(#"\u00e9""#, from: 2, JSONTokens.hex4)
        #expect(value == .success(0xE9))
        #expect(end == 6)
        let (bad, badIndex) = scan(#"\u00g9"#, from: 2, JSONTokens.hex4)
        #expect(throws: JSONTokens.Failure.invalidHexDigit) { try bad.get() }
        #expect(badIndex == 4)
        let (short, shortIndex) = scan(#"\u00e"#, from: 2, JSONTokens.hex4)
        #expect(throws: JSONTokens.Failure.shortUnicodeEscape) { try short.get() }
        #expect(shortIndex == 2)
    }

    @Test func literalsWhitespaceAndEscapes() {
        #expect(scan("nulls", { bytes, index in JSONTokens.skipLiteral("null", bytes, &index) }) == (.success(true), 4))
        #expect(scan("nul", { bytes, index in JSONTokens.skipLiteral("null", bytes, &index) }) == (.success(false), 0))
        #expect(scan("trUe", { bytes, index in JSONTokens.skipLiteral("true", bytes, &index) }) == (.success(false), 0))
        #expect(scan(" \t\r\n x", { bytes, index in JSONTokens.skipWhitespace(bytes, &index) }).index == 5)
        let escapes = Array(#""\/bfnrtu0"#.utf8).map(JSONTokens.simpleEscape)
        #expect(escapes == [0x22, 0x5C, 0x2F, 0x08, 0x0C, 0x0A, 0x0D, 0x09, nil, nil])
    }

    @Test func utf8TextASCIIOtherScalarsAndInvalidBytes() {
        let cases: [([UInt8], String?)] = [
            (Array("+436601234567".utf8), "+436601234567"), ([], ""), (Array("Zürich 東京 🙂".utf8), "Zürich 東京 🙂"),
            ([0x61, 0xC3], nil), ([0x61, 0xC3, 0x28], nil), ([0xFF], nil), ([0xED, 0xA0, 0x80], nil),
        ]
        for (bytes, text) in cases {
            #expect(bytes.withUnsafeBufferPointer(JSONTokens.string) == text, "\(bytes)")
            #expect(JSONTokens.isValidUTF8(bytes) == (text != nil), "\(bytes)")
        }
    }
}
