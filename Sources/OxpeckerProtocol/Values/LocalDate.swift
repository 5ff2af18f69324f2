/// A calendar date with no time or zone (a birth date, a follow-up day),
/// written `YYYY-MM-DD`.
public struct LocalDate: Hashable, Comparable, Sendable, TextCodable {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Makes a date; throws if the day does not exist (`2026-02-30`).
    public init(year: Int, month: Int, day: Int) throws(ProtocolError) {
        try self.init(year: year, month: month, day: day, text: "\(year)-\(month)-\(day)")
    }

    init(year: Int, month: Int, day: Int, text: String) throws(ProtocolError) {
        guard (1...9999).contains(year), (1...12).contains(month),
            (1...Self.daysIn(month: month, year: year)).contains(day)
        else { throw .invalidDate(kind: "date (expected YYYY-MM-DD)", value: text) }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD`.
    public init(parsing text: String) throws(ProtocolError) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.utf8.count == 10, parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
        else { throw .invalidDate(kind: "date (expected YYYY-MM-DD)", value: text) }
        try self.init(year: year, month: month, day: day, text: text)
    }

    /// The date `days` days after 1970-01-01 (proleptic Gregorian).
    public init(daysSince1970 days: Int) {
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * mp + 2) / 5 + 1
        month = mp < 10 ? mp + 3 : mp - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// Days since 1970-01-01 (negative before).
    public var daysSince1970: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    public var description: String {
        Instant.pad(year, 4) + "-" + Instant.pad(month, 2) + "-" + Instant.pad(day, 2)
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.daysSince1970 < rhs.daysSince1970 }

}

/// A time of day with no date or zone, written `HH:MM` (quiet hours start and end).
public struct LocalTime: Hashable, Comparable, Sendable, TextCodable {
    /// Minutes after midnight, 0 to 1439.
    public let minuteOfDay: Int

    /// Parses `HH:MM`, 00:00 to 23:59.
    public init(parsing text: String) throws(ProtocolError) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard text.utf8.count == 5, parts.count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]),
            parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            (0..<24).contains(hour), (0..<60).contains(minute)
        else { throw .invalidDate(kind: "time of day (expected HH:MM)", value: text) }
        minuteOfDay = hour * 60 + minute
    }

    /// The time `hour`:`minute`.
    public init(hour: Int, minute: Int) throws(ProtocolError) {
        try self.init(parsing: Instant.pad(hour, 2) + ":" + Instant.pad(minute, 2))
    }

    public var description: String { Instant.pad(minuteOfDay / 60, 2) + ":" + Instant.pad(minuteOfDay % 60, 2) }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.minuteOfDay < rhs.minuteOfDay }

}

/// An exact decimal number carried as text (`"-1200.50"`): money, rates, amounts.
///
/// The text is kept as given (after validation), so `"1.10"` stays `"1.10"`.
public struct DecimalText: Hashable, Sendable, TextCodable {
    /// The validated text: an optional `-`, digits, and an optional `.` with digits.
    public let text: String

    /// Validates `text`: at most 30 digits in all, no exponent, no `+`, no leading zeros.
    public init(parsing text: String) throws(ProtocolError) {
        let bytes = Array(text.utf8)
        var index = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        let integerStart = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        let integerDigits = index - integerStart
        var fractionDigits = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let fractionStart = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            fractionDigits = index - fractionStart
            guard fractionDigits > 0 else { throw .invalidDecimal(text) }
        }
        guard index == bytes.count, integerDigits > 0, integerDigits + fractionDigits <= 30,
            integerDigits == 1 || bytes[integerStart] != UInt8(ascii: "0")
        else { throw .invalidDecimal(text) }
        self.text = text
    }

    public var description: String { text }

}
