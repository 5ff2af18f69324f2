import OxpeckerProtocol

@testable import OxpeckerStore

/// A valid sample value for every field type, and a second, different one.
enum FieldSamples {
    static func value(for type: FieldType, variant: Int = 0) -> JSONValue {
        switch type {
        case .text, .setElement: variant == 0 ? "Nováková \"Jana\" / ☕️\nline two" : "second value"
        case .scope: variant == 0 ? "branch:HN01" : "advisor:a-417"
        case .date: variant == 0 ? "1984-02-29" : "1990-12-31"
        case .instant: variant == 0 ? "2026-11-24T15:31:50.123Z" : "1999-01-01T00:00:00.000Z"
        case .bool: .bool(variant == 0)
        case .choice(let values): .string(values[variant % values.count == 0 ? 0 : 1])
        case .channelList: variant == 0 ? ["sms", "email"] : ["branch"]
        case .quietHours:
            variant == 0
                ? ["start": "21:00", "end": "08:00", "time_zone": "Europe/Prague"]
                : ["start": "12:00", "end": "13:30", "time_zone": "America/New_York"]
        case .contactBudget: variant == 0 ? ["max_contacts": 3, "period": "month"] : ["max_contacts": 0, "period": "week"]
        case .firstTransaction:
            variant == 0
                ? ["date": "2026-01-05", "place": "branch HN01", "what": "deposit", "amount": ["value": "1200.50", "currency": "EUR"]]
                : ["what": "card payment", "amount": ["value": "0.000000000000000000000000001", "currency": "CZK"]]
        }
    }
}
