import Foundation
import OxpeckerProtocol

/// Hours in the customer's own time zone when no proactive contact is made.
/// `start` after `end` spans midnight (21:00–08:00).
public struct QuietHours: FieldValue, Hashable {
    public var start: LocalTime
    public var end: LocalTime
    /// An IANA time zone identifier, like `Europe/Prague`.
    public var timeZone: String

    /// Quiet hours from `start` to `end` in `timeZone`; throws if the zone is unknown.
    public init(start: LocalTime, end: LocalTime, timeZone: String) throws(StoreError) {
        guard TimeZone(identifier: timeZone) != nil else {
            throw .invalidValue(field: "quiet_hours", reason: "unknown time zone '\(timeZone)' (use an IANA name like Europe/Prague)")
        }
        guard start != end else { throw .invalidValue(field: "quiet_hours", reason: "start and end are the same time") }
        self.start = start
        self.end = end
        self.timeZone = timeZone
    }

    public var json: JSONValue {
        ["start": .string(start.description), "end": .string(end.description), "time_zone": .string(timeZone)]
    }

    public init(json: JSONValue, field: String) throws(StoreError) {
        guard let members = json.objectValue, Set(members.keys) == ["start", "end", "time_zone"],
            let start = members["start"]?.stringValue, let end = members["end"]?.stringValue,
            let zone = members["time_zone"]?.stringValue
        else { throw .invalidValue(field: field, reason: "expected {\"start\":\"HH:MM\",\"end\":\"HH:MM\",\"time_zone\":ZONE}") }
        do {
            try self.init(start: LocalTime(parsing: start), end: LocalTime(parsing: end), timeZone: zone)
        } catch let error as StoreError {
            throw error
        } catch {
            throw .invalidValue(field: field, reason: "\(error)")
        }
    }

    /// Parses `21:00-08:00 Europe/Prague`.
    public init(input: String, field: String) throws(StoreError) {
        let parts = input.split(separator: " ", omittingEmptySubsequences: true)
        let times = parts.first?.split(separator: "-") ?? []
        guard parts.count == 2, times.count == 2 else {
            throw .invalidValue(field: field, reason: "expected START-END TIMEZONE, like '21:00-08:00 Europe/Prague'")
        }
        try self.init(json: ["start": .string(String(times[0])), "end": .string(String(times[1])), "time_zone": .string(String(parts[1]))], field: field)
    }

    /// Whether `minuteOfDay` (in the customer's zone) falls within the quiet hours.
    public func contains(minuteOfDay: Int) -> Bool {
        start < end
            ? (start.minuteOfDay..<end.minuteOfDay).contains(minuteOfDay)
            : minuteOfDay >= start.minuteOfDay || minuteOfDay < end.minuteOfDay
    }
}

/// At most `maxContacts` proactive contacts per `period`.
public struct ContactBudget: FieldValue, Hashable {
    public var maxContacts: Int
    public var period: BudgetPeriod

    /// A budget; `maxContacts` from 0 (never) to 1000.
    public init(maxContacts: Int, period: BudgetPeriod) throws(StoreError) {
        guard (0...1000).contains(maxContacts) else {
            throw .invalidValue(field: "contact_budget", reason: "max contacts must be 0 to 1000")
        }
        self.maxContacts = maxContacts
        self.period = period
    }

    public var json: JSONValue { ["max_contacts": .integer(Int64(maxContacts)), "period": period.json] }

    public init(json: JSONValue, field: String) throws(StoreError) {
        guard let members = json.objectValue, Set(members.keys) == ["max_contacts", "period"],
            let count = members["max_contacts"]?.integerValue, let period = members["period"]
        else { throw .invalidValue(field: field, reason: "expected {\"max_contacts\":N,\"period\":PERIOD}") }
        try self.init(maxContacts: Int(clamping: count), period: BudgetPeriod(json: period, field: field))
    }

    /// Parses `3/month`.
    public init(input: String, field: String) throws(StoreError) {
        let parts = input.split(separator: "/")
        guard parts.count == 2, let count = Int(parts[0]) else {
            throw .invalidValue(field: field, reason: "expected N/PERIOD, like 3/month")
        }
        try self.init(maxContacts: count, period: BudgetPeriod(input: String(parts[1]), field: field))
    }
}

/// An amount of money: an exact decimal and an ISO 4217 currency code.
public struct Money: Hashable, Sendable {
    public var value: DecimalText
    public var currency: String

    public init(value: DecimalText, currency: String) {
        self.value = value
        self.currency = currency
    }

    var json: JSONValue { ["value": .string(value.text), "currency": .string(currency)] }

    init(json: JSONValue, field: String) throws(StoreError) {
        guard let members = json.objectValue, Set(members.keys) == ["value", "currency"],
            let text = members["value"]?.stringValue, let currency = members["currency"]?.stringValue,
            currency.utf8.count == 3, currency.allSatisfy({ $0.isASCII && $0.isUppercase })
        else { throw .invalidValue(field: field, reason: "expected {\"value\":\"12.50\",\"currency\":\"EUR\"}") }
        do { self.value = try DecimalText(parsing: text) } catch { throw .invalidValue(field: field, reason: error.description) }
        self.currency = currency
    }
}

/// What the customer's first transaction with the bank was: where, when, what, how much.
public struct FirstTransaction: FieldValue, Hashable {
    public var date: LocalDate?
    public var place: String?
    public var what: String?
    public var amount: Money?

    public init(date: LocalDate? = nil, place: String? = nil, what: String? = nil, amount: Money? = nil) {
        self.date = date
        self.place = place
        self.what = what
        self.amount = amount
    }

    public var json: JSONValue {
        var members: [String: JSONValue] = [:]
        if let date { members["date"] = .string(date.description) }
        if let place { members["place"] = .string(place) }
        if let what { members["what"] = .string(what) }
        if let amount { members["amount"] = amount.json }
        return .object(members)
    }

    public init(json: JSONValue, field: String) throws(StoreError) {
        guard let members = json.objectValue, !members.isEmpty,
            Set(members.keys).isSubset(of: ["date", "place", "what", "amount"])
        else { throw .invalidValue(field: field, reason: "expected an object with some of date, place, what, amount") }
        if let date = members["date"] { self.date = try LocalDate(json: date, field: field) }
        for key in ["place", "what"] {
            guard let value = members[key] else { continue }
            guard let text = value.stringValue, !text.isEmpty, text.unicodeScalars.count <= 500 else {
                throw .invalidValue(field: field, reason: "\(key) must be text of 1 to 500 characters")
            }
            if key == "place" { place = text } else { what = text }
        }
        if let amount = members["amount"] { self.amount = try Money(json: amount, field: field) }
    }
}
