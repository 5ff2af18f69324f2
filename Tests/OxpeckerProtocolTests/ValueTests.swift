import Testing
@testable import OxpeckerProtocol

@Suite("Instants, dates, times and decimals")
struct ValueTests {
    @Test("an instant formats and parses back to the same millisecond", arguments: [UInt64(5), 6, 7])
    func instantRoundTrip(seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        // 0001-01-01 to 9999-12-31.
        let range: ClosedRange<Int64> = -62_135_596_800_000...253_402_300_799_999
        for _ in 0..<2_000 {
            let instant = Instant(millisecondsSince1970: Int64.random(in: range, using: &random))
            let text = instant.description
            #expect(text.utf8.count == 24 && text.hasSuffix("Z"))
            #expect(try Instant(parsing: text) == instant, "seed \(seed): \(text)")
        }
    }

    @Test("known instants have their documented form")
    func knownInstants() throws {
        #expect(Instant(millisecondsSince1970: 0).description == "1970-01-01T00:00:00.000Z")
        #expect(Instant(millisecondsSince1970: -1).description == "1969-12-31T23:59:59.999Z")
        #expect(try Instant(parsing: "2026-11-24T16:31:50.5+01:00").description == "2026-11-24T15:31:50.500Z")
    }

    @Test("invalid instants are refused", arguments: [
        "2026-02-30T10:00:00.000Z", "2026-13-01T10:00:00.000Z", "2026-11-24T24:00:00.000Z", "2026-11-24T10:60:00.000Z",
        "2026-11-24T10:00:00.0000Z", "2026-11-24T10:00:00.000", "2026-11-24 10:00:00.000Z", "2026-11-24T10:00:00.000Zjunk", "",
    ])
    func invalidInstants(text: String) {
        #expect(throws: ProtocolError.self) { try Instant(parsing: text) }
    }

    @Test("a date formats and parses back to the same day", arguments: [UInt64(8), 9])
    func dateRoundTrip(seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        for _ in 0..<2_000 {
            let date = LocalDate(daysSince1970: Int.random(in: -719_162...2_932_896, using: &random))
            #expect(try LocalDate(parsing: date.description) == date)
            #expect(LocalDate(daysSince1970: date.daysSince1970) == date)
        }
    }

    @Test("dates that do not exist are refused", arguments: ["2026-02-29", "1900-02-29", "2026-04-31", "2026-00-10", "0000-01-01", "2026-1-01", "26-01-01", "2026-01-01T"])
    func invalidDates(text: String) {
        #expect(throws: ProtocolError.self) { try LocalDate(parsing: text) }
    }

    @Test("leap days exist only in leap years")
    func leapDays() throws {
        #expect(try LocalDate(parsing: "2000-02-29").description == "2000-02-29")
        #expect(try LocalDate(parsing: "2024-02-29").description == "2024-02-29")
    }

    @Test("times of day are HH:MM from 00:00 to 23:59")
    func times() throws {
        #expect(try LocalTime(parsing: "07:05").description == "07:05")
        for bad in ["24:00", "7:05", "07:60", "0705", "07:05:00"] {
            #expect(throws: ProtocolError.self) { try LocalTime(parsing: bad) }
        }
    }

    @Test("decimals keep their text exactly and refuse other forms")
    func decimals() throws {
        #expect(try DecimalText(parsing: "-1200.50").text == "-1200.50")
        #expect(try DecimalText(parsing: "0.10").text == "0.10")
        for bad in ["1e3", "+1", "01", ".5", "5.", "1,5", "", "-", "1234567890123456789012345678901"] {
            #expect(throws: ProtocolError.self) { try DecimalText(parsing: bad) }
        }
    }
}
