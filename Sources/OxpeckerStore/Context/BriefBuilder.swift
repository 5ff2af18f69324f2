import OxpeckerProtocol

/// Builds a ``CustomerBrief`` from a ``CustomerContext``, pure: no database, no
/// clock (the time is passed in), so every replica with the same state gives
/// the same brief.
public struct BriefBuilder: Sendable {
    public let rules: ContextRules
    public let model: (any CustomerInsightModel)?

    public init(rules: ContextRules = .standard, model: (any CustomerInsightModel)? = nil) {
        self.rules = rules
        self.model = model
    }

    public func brief(of context: CustomerContext, at time: Instant) -> CustomerBrief {
        var statements: [BriefStatement] = []
        func say(_ section: BriefStatement.Section, _ topic: String, _ text: String, _ sources: [SourceRef]) {
            statements.append(BriefStatement(section: section, topic: topic, text: text, sources: sources))
        }
        let profile = context.profile
        let profiling = context.mayUse(.profiling)
        let today = time.utcDay

        // Relationship: stage and how long, customer since, segment.
        if let stage = profile.fields[ProfileField.stage.name], let name = stage.value.stringValue {
            let since = Instant(millisecondsSince1970: stage.hlc.wallMillis)
            var text = "\(name) for \(DurationText.days(DurationText.daysBetween(since, time))) (since \(since.utcDay))"
            if let reason = profile[.stageReason] { text += ": \(reason)" }
            say(.relationship, "stage", text, [.field("stage")] + (profile[.stageReason] == nil ? [] : [.field("stage_reason")]))
        }
        if let created = profile[.createdAt] {
            say(.relationship, "customer_since", "customer for \(DurationText.days(DurationText.daysBetween(created, time))) (since \(created.utcDay))", [.field("created_at")])
        }
        if let segment = profile[.segment] {
            say(.relationship, "segment", "segment \(segment)", [.field("segment")])
        }

        // The advisor who knows them: who held the latest conversations.
        advisor(context, at: time, say: say)

        // How they like to be reached.
        contactPreferences(context, at: time, say: say)

        // Recent life events and what they usually mean.
        var needs: [String] = []
        var avoid: [String] = []
        for event in context.profile.lifeEvents where today.daysSince1970 - event.date.daysSince1970 <= rules.lifeEventRecentDays {
            let meaning = rules.lifeEvents[event.typeName]
            var text = "\(event.typeName.replacingOccurrences(of: "_", with: " ")) on \(event.date) (\(event.source), \(event.confidence)% sure)"
            if let detail = event.detail { text += ": \(Self.short(detail))" }
            if let meaning {
                let caring = meaning.careDays > 0 && (0..<meaning.careDays).contains(today.daysSince1970 - event.date.daysSince1970)
                // What an event means for needs is profiling; a care period is protection and always shown.
                if profiling {
                    text += " — usually \(meaning.meaning)"
                    for need in meaning.needs where !needs.contains(need) { needs.append(need) }
                    for item in meaning.avoid where !avoid.contains(item) { avoid.append(item) }
                } else if caring {
                    text += " — \(meaning.meaning)"
                }
                if caring {
                    say(.caution, "care_period", "handle with care until \(LocalDate(daysSince1970: event.date.daysSince1970 + meaning.careDays)): \(event.typeName.replacingOccurrences(of: "_", with: " ")) on \(event.date), no offers", [.lifeEvent(event.id)])
                    if !profiling { for item in meaning.avoid where !avoid.contains(item) { avoid.append(item) } }
                }
            }
            say(.lifeEvent, "life_event.\(event.typeName)", text, [.lifeEvent(event.id)])
        }
        if !profiling, !context.profile.lifeEvents.isEmpty {
            say(.lifeEvent, "profiling_not_allowed", "what life events usually mean is not shown: \(context.verdict(for: .profiling)?.reason ?? "no profiling consent")", context.verdict(for: .profiling)?.sources ?? [])
        }

        // Open follow-ups.
        for note in Self.openFollowUps(context.notes, at: time) {
            guard let date = note.followUp else { continue }
            let overdue = date < today ? "overdue since \(date)" : "due \(date)"
            say(.followUp, "follow_up", "follow-up \(overdue), from \(note.author)'s note of \(note.at.utcDay)" + (note.text.map { ": \(Self.short($0))" } ?? ""), [.note(note.id)])
        }

        // Complaints and negative conversations of the recent past.
        let moods = context.notes.reversed().compactMap { note in
            note.sentiment.map { ContactFacts.Mood(note: note.id, at: note.at, sentiment: $0) }
        }
        let open = ContactGate.openComplaint(in: moods, at: time, rules: rules)
        let recentSince = time.minus(days: rules.complaintRecentDays)
        for note in context.notes where note.at <= time && note.at > recentSince && (note.sentiment == .complaint || note.sentiment == .negative) {
            let status = note.sentiment == .complaint ? (open?.note == note.id ? " (in progress)" : " (closed)") : ""
            say(.complaint, note.sentiment == .complaint ? "complaint" : "negative", "\(note.sentiment?.rawValue ?? "") on \(note.at.utcDay) via \(note.channel?.rawValue ?? "?") with \(note.author)\(status)" + (note.text.map { ": \(Self.short($0))" } ?? ""), [.note(note.id)])
        }
        if let open {
            say(.caution, "complaint_in_progress", "a complaint of \(open.at.utcDay) is in progress: acknowledge it first, no offers", [.note(open.note)])
        }

        // Consents in force.
        for verdict in context.consents {
            var text = verdict.reason
            if verdict.purpose == ConsentPurpose.marketing.rawValue, !verdict.allowed { text += ": no marketing on any channel" }
            say(.consent, verdict.purpose, text, verdict.sources)
        }

        // A bank's model, if any, for customers whose data may be used for profiling.
        if let model, profiling {
            for insight in model.insights(for: context, at: time) {
                say(.model, "model.\(model.name)", insight.text, insight.sources)
            }
        }
        let order = Dictionary(uniqueKeysWithValues: BriefStatement.Section.allCases.enumerated().map { ($1, $0) })
        let sorted = statements.enumerated().sorted { (order[$0.element.section]!, $0.offset) < (order[$1.element.section]!, $1.offset) }.map(\.element)
        return CustomerBrief(customer: profile.id, displayName: profile.displayName, at: time, needs: needs, avoid: avoid, statements: sorted)
    }

    private typealias Say = (BriefStatement.Section, String, String, [SourceRef]) -> Void

    private func advisor(_ context: CustomerContext, at time: Instant, say: Say) {
        let assigned = context.profile[.advisor]
        let latest = Array(context.conversations(by: time, rules: rules).prefix(rules.continuityConversations))
        guard let knows = Self.advisorWhoKnows(latest) else {
            if let assigned { say(.advisor, "advisor", "assigned advisor \(assigned); no conversation recorded yet", [.field("advisor")]) }
            return
        }
        let held = latest.filter { $0.author == knows }
        var text = "\(knows) knows them: held \(held.count) of the last \(latest.count) conversations (latest \(held[0].at.utcDay))"
        var sources = held.map { SourceRef.note($0.id) }
        if let assigned {
            sources.append(.field("advisor"))
            text += assigned == knows ? "; also the assigned advisor" : "; the assigned advisor is \(assigned)"
        }
        say(.advisor, "advisor_continuity", text, sources)
    }

    /// The author of most of `conversations` (newest first); of equals, the most recent.
    static func advisorWhoKnows(_ conversations: [Note]) -> String? {
        var counts: [String: Int] = [:]
        for note in conversations { counts[note.author, default: 0] += 1 }
        let most = counts.values.max() ?? 0
        return conversations.first { counts[$0.author] == most }?.author
    }

    private func contactPreferences(_ context: CustomerContext, at time: Instant, say: Say) {
        let profile = context.profile
        if profile[.doNotContact] == true {
            say(.caution, "do_not_contact", "do not contact: the customer asked for no proactive contact", [.field("do_not_contact")])
        }
        if let channels = profile[.preferredChannels] {
            say(.contact, "preferred_channels", "prefers \(channels.map(\.rawValue).joined(separator: ", "))", [.field("preferred_channels")])
        }
        if let preference = profile[.servicePreference] {
            let text = switch preference {
            case .human: "prefers a person to self-service"
            case .selfService: "prefers self-service to a person"
            case .noPreference: "no preference between a person and self-service"
            }
            say(.contact, "service_preference", text, [.field("service_preference")])
        }
        if let hours = profile[.quietHours] {
            say(.contact, "quiet_hours", "quiet hours \(hours.start)-\(hours.end) \(hours.timeZone)", [.field("quiet_hours")])
        }
        if let budget = profile[.contactBudget] {
            let used = ContactGate(rules: rules).countedContacts(context.contacts, against: budget, at: time)
            say(.contact, "contact_budget", "contact budget \(budget.maxContacts)/\(budget.period.rawValue): \(used.count) used in the last \(budget.period.rawValue)", [.field("contact_budget")] + used.map { .contact($0.id) })
        }
    }

    /// Notes with a follow-up date and no note after them, made by `time`, oldest follow-up first.
    static func openFollowUps(_ notes: [Note], at time: Instant) -> [Note] {
        let made = notes.filter { $0.at <= time }
        guard let latest = made.map(\.at).max() else { return [] }
        // Closed by any later conversation: someone has been in touch since.
        return made.filter { $0.followUp != nil && $0.at == latest }.sorted { ($0.followUp!, $0.id) < ($1.followUp!, $1.id) }
    }

    static func short(_ text: String, _ limit: Int = 100) -> String {
        let line = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return line.count <= limit ? line : String(line.prefix(limit - 1)) + "…"
    }
}

extension StoreReader {
    /// The brief of one customer at `time`: the facts a person should see before
    /// any contact, each with the records it comes from. One snapshot; the same on
    /// every replica with the same changes. Throws ``StoreError/unknownCustomer(_:)``.
    ///
    /// ```swift
    /// let brief = try reader.brief(of: "c-1001", at: now)
    /// brief.needs   // ["liquidity"] for a customer renovating
    /// ```
    public func brief(
        of customer: CustomerID, at time: Instant, rules: ContextRules = .standard, model: (any CustomerInsightModel)? = nil
    ) throws -> CustomerBrief {
        BriefBuilder(rules: rules, model: model).brief(of: try context(of: customer, at: time, rules: rules), at: time)
    }
}

extension CustomerStore {
    /// The brief of one customer; one read. See ``StoreReader/brief(of:at:rules:model:)``.
    public func brief(
        of customer: CustomerID, at time: Instant, rules: ContextRules = .standard, model: (any CustomerInsightModel)? = nil
    ) throws -> CustomerBrief {
        try readNow { try $0.brief(of: customer, at: time, rules: rules, model: model) }
    }
}
