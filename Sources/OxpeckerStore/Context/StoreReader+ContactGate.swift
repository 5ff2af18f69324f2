import GRDB
import OxpeckerProtocol

extension StoreReader {
    /// May `customer` be contacted on `channel` for `purpose` at `time`? Yes or no,
    /// with a reason for every check, saying whether it blocks, passes or does not
    /// apply (``GateReason/Verdict``): do-not-contact, consent for the purpose, quiet hours in the
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

    /// Reads what the gate needs about one customer for `request`, in one SQL
    /// statement (so one snapshot, even outside a transaction): the contact
    /// preferences, the decisions on the purpose's consent, the contacts, life
    /// events and note sentiments of the windows the rules look at, and whether
    /// the customer exists. Every part is an indexed range of one customer.
    func contactFacts(of customer: CustomerID, for request: ContactRequest, gate: ContactGate) throws -> ContactFacts {
        let rules = gate.rules
        let purpose = try rules.purpose(named: request.purpose)
        var facts = ContactFacts()
        let contactsSince = request.at.minus(days: gate.contactWindowDays)
        let careSince = LocalDate(daysSince1970: request.at.utcDay.daysSince1970 - rules.longestCareDays)
        let moodsSince = request.at.minus(days: rules.complaintOpenDays)
        let rows = try Row.fetchCursor(
            db.cachedStatement(sql: Self.contactFactsSQL),
            arguments: [
                customer.rawValue, purpose.consent, contactsSince.description,
                rules.longestCareDays > 0 ? careSince.description : "9999-12-31",
                rules.complaintOpenDays > 0 ? moodsSince.description : "9999-12-31",
            ])
        var exists = false
        var decisions: [(event: ConsentEvent, observed: [HybridTimestamp])] = []
        while let row = try rows.next() {
            switch row[0] as Int {
            case 0:
                let name: String = row[1]
                // A value this build cannot read (a newer peer's form, a time zone unknown here, a
                // damaged row) is noted, and the gate says no: it fails closed, never as if unset.
                do throws(StoreError) {
                    guard let value = try? JSONValue(parsing: row[2] as String) else {
                        throw .invalidValue(field: name, reason: "not JSON")
                    }
                    guard value != .null else { continue }  // cleared
                    switch name {
                    case "do_not_contact":
                        guard let flag = value.boolValue else { throw .invalidValue(field: name, reason: "expected true or false") }
                        facts.doNotContact = flag
                    case "quiet_hours": facts.quietHours = try QuietHours(json: value, field: name)
                    case "contact_budget": facts.budget = try ContactBudget(json: value, field: name)
                    default: facts.preferredChannels = try [Channel](json: value, field: name)
                    }
                } catch {
                    if case .invalidValue(_, let reason) = error { facts.unreadable[name] = reason } else { facts.unreadable[name] = "\(error)" }
                }
            case 1:
                let stored = try ConsentReader.storedEvent(row, from: 1)
                decisions.append((stored.event, stored.observed))
            case 2: facts.recentContacts.append(try Self.contactRecord(row, from: 1))
            case 3: facts.recentLifeEvents.append(try Self.lifeEvent(row, from: 1))
            case 4:
                if let sentiment = Sentiment(rawValue: row[3]) {
                    facts.recentMoods.append(ContactFacts.Mood(note: RecordID(unchecked: row[1]), at: try Instant(parsing: row[2]), sentiment: sentiment))
                }
            default: exists = true
            }
        }
        guard exists else { throw StoreError.unknownCustomer(customer) }
        if let consent = purpose.consent {
            facts.consent = ConsentGate.verdict(for: consent, decisions: decisions, at: request.at, rules: rules)
        }
        facts.recentContacts.sort { ($0.at, $0.id.rawValue) > ($1.at, $1.id.rawValue) }
        facts.recentLifeEvents.sort { ($0.date, $1.id.rawValue) > ($1.date, $0.id.rawValue) }
        facts.recentMoods.sort { ($0.at, $0.note.rawValue) < ($1.at, $1.note.rawValue) }
        return facts
    }

    private static let contactFactsSQL = """
        SELECT 0, field, value, NULL, NULL, NULL, NULL, NULL FROM field_value WHERE customer_id = ?1
            AND field IN ('do_not_contact', 'quiet_hours', 'contact_budget', 'preferred_channels')
        UNION ALL SELECT 1, id, purpose, status, source, at, hlc, observed FROM consent_event WHERE customer_id = ?1 AND purpose = ?2
        UNION ALL SELECT 2, id, channel, purpose, oxp_open(customer_id, topic), at, outcome, NULL FROM contact WHERE customer_id = ?1 AND at > ?3
        UNION ALL SELECT 3, id, type, date, source, confidence, oxp_open(customer_id, detail), NULL FROM life_event WHERE customer_id = ?1 AND date > ?4
        UNION ALL SELECT 4, id, at, sentiment, NULL, NULL, NULL, NULL FROM note WHERE customer_id = ?1 AND at > ?5 AND sentiment IS NOT NULL
        UNION ALL SELECT 5, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM customer WHERE id = ?1
        """

    /// A contact row: id, channel, purpose, topic, at, outcome.
    static func contactRecord(_ row: Row) throws -> ContactRecord { try contactRecord(row, from: 0) }

    /// A contact in the columns id, channel, purpose, topic, at, outcome of `row`, from `first` on.
    static func contactRecord(_ row: Row, from first: Int) throws -> ContactRecord {
        ContactRecord(
            id: RecordID(unchecked: row[first]), channel: Channel(rawValue: row[first + 1]), channelName: row[first + 1],
            purpose: row[first + 2], topic: row[first + 3], at: try Instant(parsing: row[first + 4]),
            outcome: ContactOutcome(rawValue: row[first + 5]), outcomeName: row[first + 5])
    }

    /// A life event row: id, type, date, source, confidence, detail.
    static func lifeEvent(_ row: Row) throws -> LifeEvent { try lifeEvent(row, from: 0) }

    /// A life event in the columns id, type, date, source, confidence, detail of `row`, from `first` on.
    static func lifeEvent(_ row: Row, from first: Int) throws -> LifeEvent {
        LifeEvent(
            id: RecordID(unchecked: row[first]), type: LifeEventType(rawValue: row[first + 1]), typeName: row[first + 1],
            date: try LocalDate(parsing: row[first + 2]), source: row[first + 3], confidence: row[first + 4], detail: row[first + 5])
    }
}

extension CustomerStore {
    /// May `customer` be contacted? One read; see ``StoreReader/mayContact(_:on:for:topic:at:rules:)``.
    public func mayContact(
        _ customer: CustomerID, on channel: Channel, for purpose: String, topic: String? = nil, at time: Instant,
        rules: ContextRules = .standard
    ) throws -> ContactDecision {
        // The gate reads in one statement, which is one snapshot: no transaction needed around it.
        try Self.mapErrors(path: path) {
            try pool.unsafeRead { db in
                try StoreReader(db: db).mayContact(customer, on: channel, for: purpose, topic: topic, at: time, rules: rules)
            }
        }
    }
}
