import GRDB
import OxpeckerProtocol

extension StoreReader {
    /// May `customer` be contacted on `channel` for `purpose` at `time`? Yes or no,
    /// with the reasons: do-not-contact, consent for the purpose, quiet hours in the
    /// customer's time zone, the contact budget (counting the contacts of every
    /// device synced so far), a recent dismissal of the same topic, a care period
    /// after a life event, a complaint in progress, the preferred channels.
    ///
    /// A function of the converged state and `time`: every replica with the same
    /// changes gives the same answer. A handful of indexed lookups.
    ///
    /// ```swift
    /// let answer = try reader.mayContact("c-1001", on: .sms, for: "marketing", at: now)
    /// if !answer.allowed { print(answer.reasons.filter(\.blocks).map(\.message)) }
    /// ```
    ///
    /// Throws ``StoreError/unknownCustomer(_:)``, or ``StoreError/invalidValue(field:reason:)``
    /// for a purpose the rules do not know.
    public func mayContact(
        _ customer: CustomerID, on channel: Channel, for purpose: String, topic: String? = nil, at time: Instant,
        rules: ContextRules = .standard
    ) throws -> ContactDecision {
        let gate = ContactGate(rules: rules)
        let request = ContactRequest(channel: channel, purpose: purpose, topic: topic, at: time)
        return try gate.decide(request, for: customer, facts: contactFacts(of: customer, for: request, gate: gate))
    }

    /// Reads what the gate needs about one customer for `request`.
    func contactFacts(of customer: CustomerID, for request: ContactRequest, gate: ContactGate) throws -> ContactFacts {
        let rules = gate.rules
        let purpose = try rules.purpose(named: request.purpose)
        guard try exists(customer) else { throw StoreError.unknownCustomer(customer) }
        var facts = ContactFacts()
        let rows = try Row.fetchCursor(
            db.cachedStatement(
                sql: """
                    SELECT field, value FROM field_value WHERE customer_id = ?
                    AND field IN ('do_not_contact', 'quiet_hours', 'contact_budget', 'preferred_channels')
                    """),
            arguments: [customer.rawValue])
        while let row = try rows.next() {
            let name: String = row[0]
            let value = try JSONValue(parsing: row[1] as String)
            // A value a newer peer wrote in a form this build does not know reads as unset.
            switch name {
            case "do_not_contact": facts.doNotContact = value.boolValue ?? false
            case "quiet_hours": facts.quietHours = try? QuietHours(json: value, field: name)
            case "contact_budget": facts.budget = try? ContactBudget(json: value, field: name)
            default: facts.preferredChannels = (try? [Channel](json: value, field: name)) ?? []
            }
        }
        if let consent = purpose.consent {
            facts.consent = try consentVerdict(customer, purpose: consent, at: request.at, rules: rules)
        }
        let contactsSince = request.at.minus(days: gate.contactWindowDays(budget: facts.budget))
        facts.recentContacts = try Row.fetchAll(
            db.cachedStatement(
                sql: "SELECT id, channel, purpose, topic, at, outcome FROM contact WHERE customer_id = ? AND at > ? ORDER BY at DESC, id DESC"),
            arguments: [customer.rawValue, contactsSince.description]
        ).map(Self.contactRecord)
        let careDays = rules.longestCareDays
        if careDays > 0 {
            let since = LocalDate(daysSince1970: request.at.utcDay.daysSince1970 - careDays)
            facts.recentLifeEvents = try Row.fetchAll(
                db.cachedStatement(
                    sql: "SELECT id, type, date, source, confidence, detail FROM life_event WHERE customer_id = ? AND date > ? ORDER BY date DESC, id"),
                arguments: [customer.rawValue, since.description]
            ).map(Self.lifeEvent)
        }
        if rules.complaintOpenDays > 0 {
            facts.recentMoods = try Row.fetchAll(
                db.cachedStatement(
                    sql: "SELECT id, at, sentiment FROM note WHERE customer_id = ? AND at > ? AND sentiment IS NOT NULL ORDER BY at, id"),
                arguments: [customer.rawValue, request.at.minus(days: rules.complaintOpenDays).description]
            ).compactMap { row in
                guard let sentiment = Sentiment(rawValue: row[2]) else { return nil }
                return ContactFacts.Mood(note: RecordID(unchecked: row[0]), at: try Instant(parsing: row[1]), sentiment: sentiment)
            }
        }
        return facts
    }

    /// A contact row: id, channel, purpose, topic, at, outcome.
    static func contactRecord(_ row: Row) throws -> ContactRecord {
        ContactRecord(
            id: RecordID(unchecked: row[0]), channel: Channel(rawValue: row[1]), channelName: row[1], purpose: row[2],
            topic: row[3], at: try Instant(parsing: row[4]), outcome: ContactOutcome(rawValue: row[5]), outcomeName: row[5])
    }

    /// A life event row: id, type, date, source, confidence, detail.
    static func lifeEvent(_ row: Row) throws -> LifeEvent {
        LifeEvent(
            id: RecordID(unchecked: row[0]), type: LifeEventType(rawValue: row[1]), typeName: row[1],
            date: try LocalDate(parsing: row[2]), source: row[3], confidence: row[4], detail: row[5])
    }
}

extension CustomerStore {
    /// May `customer` be contacted? One read; see ``StoreReader/mayContact(_:on:for:topic:at:rules:)``.
    public func mayContact(
        _ customer: CustomerID, on channel: Channel, for purpose: String, topic: String? = nil, at time: Instant,
        rules: ContextRules = .standard
    ) throws -> ContactDecision {
        try readNow { try $0.mayContact(customer, on: channel, for: purpose, topic: topic, at: time, rules: rules) }
    }
}
