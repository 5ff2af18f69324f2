/// A moment in time to the millisecond, written on the wire in one form only:
/// RFC 3339 in UTC with exactly three fraction digits, `2026-11-24T15:31:50.123Z`.
///
/// Parsing also accepts an offset (`+01:00`) and zero to three fraction digits;
/// more digits are refused rather than rounded, so no value changes on a round trip.
public struct Instant: Hashable, Comparable, Sendable, TextCodable {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public let millisecondsSince1970: Int64

    /// The instant `millisecondsSince1970` ms after the Unix epoch.
    public init(millisecondsSince1970: Int64) {
        self.millisecondsSince1970 = millisecondsSince1970
    }

    /// Parses an RFC 3339 date-time.
    public init(parsing text: String) throws(ProtocolError) {
        let bytes = Array(text.utf8)
        func digits(_ range: Range<Int>) throws(ProtocolError) -> Int {
            guard range.upperBound <= bytes.count else { throw .invalidDate(kind: "instant", value: text) }
            var value = 0
            for byte in bytes[range] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else {
                    throw .invalidDate(kind: "instant", value: text)
                }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        func expect(_ position: Int, _ characters: String) throws(ProtocolError) {
            guard position < bytes.count, characters.utf8.contains(bytes[position]) else {
                throw .invalidDate(kind: "instant", value: text)
            }
        }
        try expect(4, "-")
        try expect(7, "-")
        try expect(10, "Tt")
        try expect(13, ":")
        try expect(16, ":")
        let date = try LocalDate(year: digits(0..<4), month: digits(5..<7), day: digits(8..<10), text: text)
        let hour = try digits(11..<13), minute = try digits(14..<16), second = try digits(17..<19)
        guard hour < 24, minute < 60, second < 60 else { throw .invalidDate(kind: "instant", value: text) }
        var position = 19
        var millis = 0
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            let start = position
            while position < bytes.count, bytes[position] >= UInt8(ascii: "0"), bytes[position] <= UInt8(ascii: "9") {
                position += 1
            }
            let count = position - start
            guard (1...3).contains(count) else { throw .invalidDate(kind: "instant (at most 3 fraction digits)", value: text) }
            millis = try digits(start..<position) * [1, 100, 10, 1][count]
        }
        var offsetMinutes = 0
        guard position < bytes.count else { throw .invalidDate(kind: "instant (missing Z or offset)", value: text) }
        if bytes[position] == UInt8(ascii: "Z") || bytes[position] == UInt8(ascii: "z") {
            position += 1
        } else {
            try expect(position, "+-")
            try expect(position + 3, ":")
            let sign = bytes[position] == UInt8(ascii: "-") ? -1 : 1
            let offsetHours = try digits((position + 1)..<(position + 3))
            let offsetMins = try digits((position + 4)..<(position + 6))
            guard offsetHours < 24, offsetMins < 60 else { throw .invalidDate(kind: "instant", value: text) }
            offsetMinutes = sign * (offsetHours * 60 + offsetMins)
            position += 6
        }
        guard position == bytes.count else { throw .invalidDate(kind: "instant", value: text) }
        let seconds = Int64(date.daysSince1970) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
            - Int64(offsetMinutes * 60)
        self.init(millisecondsSince1970: seconds * 1000 + Int64(millis))
    }

    /// The canonical form: `YYYY-MM-DDTHH:MM:SS.sssZ`, UTC.
    public var description: String {
        let (days, millisOfDay) = millisecondsSince1970.floorDivided(by: 86_400_000)
        let date = LocalDate(daysSince1970: Int(days))
        let seconds = Int(millisOfDay / 1000)
        return date.description + "T" + Self.pad(seconds / 3600, 2) + ":" + Self.pad(seconds / 60 % 60, 2) + ":"
            + Self.pad(seconds % 60, 2) + "." + Self.pad(Int(millisOfDay % 1000), 3) + "Z"
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.millisecondsSince1970 < rhs.millisecondsSince1970 }

}

extension Int64 {
    func floorDivided(by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        var quotient = self / divisor
        var remainder = self % divisor
        if remainder < 0 {
            quotient -= 1
            remainder += divisor
        }
        return (quotient, remainder)
    }
}
