import OxpeckerProtocol

/// Something about a customer worth acting on, with the reason, the suggested next
/// step, the records it comes from, and what the contact gate says about reaching out.
public struct Signal: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// Silent for much longer than their own rhythm of activity.
        case goingQuiet = "going_quiet"
        /// The same pain again and again in the contact log.
        case recurringPain = "recurring_pain"
        /// A recent life event no person has talked with them about.
        case lifeEventWithoutFollowUp = "life_event_without_follow_up"
        /// A follow-up date has passed with no conversation since.
        case followUpOverdue = "follow_up_overdue"
        /// Their latest conversations were each with a different advisor.
        case continuityBroken = "continuity_broken"
        /// A bank model's insight with a next step.
        case model
    }

    public let customer: CustomerID
    public let kind: Kind
    /// Why, for a person.
    public let reason: String
    /// What to do next, for a person; says when the gate does not allow contact now.
    public let nextStep: String
    public let sources: [SourceRef]
    /// The gate's answer for the contact the next step proposes (the customer's first
    /// preferred channel, else the rules' ``ContextRules/signalChannel``, for the rules'
    /// ``ContextRules/signalPurpose``).
    public let contact: ContactDecision

    public var json: JSONValue {
        [
            "customer": .string(customer.rawValue), "kind": .string(kind.rawValue), "reason": .string(reason),
            "next_step": .string(nextStep), "sources": .array(sources.map(\.json)), "contact": contact.json,
        ]
    }
}

/// Finds the signals of one customer, pure: no database, no clock.
public struct SignalDetector: Sendable {
    public let rules: ContextRules
    public let model: (any CustomerInsightModel)?

    public init(rules: ContextRules = .standard, model: (any CustomerInsightModel)? = nil) {
        self.rules = rules
        self.model = model
    }

    /// The signals of the customer of `context` at `time`; `facts` are the gate's
    /// facts for the proposed contact.
    public func signals(of context: CustomerContext, facts: ContactFacts, at time: Instant) throws(StoreError) -> [Signal] {
        var found: [(Signal.Kind, String, String, [SourceRef])] = []
        let profiling = context.mayUse(.profiling)
        if profiling, let quiet = goingQuiet(context, at: time) { found.append(quiet) }
        if profiling { found += recurringPain(context, at: time) }
        found += lifeEventsWithoutFollowUp(context, at: time)
        found += overdueFollowUps(context, at: time)
        if let broken = continuityBroken(context, at: time) { found.append(broken) }
        if profiling, let model {
            for insight in model.insights(for: context, at: time) {
                guard let step = insight.nextStep else { continue }
                found.append((.model, "\(model.name): \(insight.text)", step, insight.sources))
            }
        }
        guard !found.isEmpty else { return [] }
        let request = proposedContact(for: context, at: time)
        let decision = try ContactGate(rules: rules).decide(request, for: context.id, facts: facts)
        let blockers = decision.reasons.filter(\.blocks).map(\.message)
        return found.map { kind, reason, step, sources in
            let next = blockers.isEmpty ? step : "\(step) — but not by \(request.channel.rawValue) now: \(blockers.joined(separator: "; "))"
            return Signal(customer: context.id, kind: kind, reason: reason, nextStep: next, sources: sources, contact: decision)
        }
    }

    /// The contact a signal's next step proposes: on the customer's first preferred
    /// channel, else the rules' signal channel, for the rules' signal purpose.
    public func proposedContact(for context: CustomerContext, at time: Instant) -> ContactRequest {
        let channel = context.profile[.preferredChannels]?.first ?? Channel(rawValue: rules.signalChannel) ?? .phone
        return ContactRequest(channel: channel, purpose: rules.signalPurpose, at: time)
    }

    /// Activity: conversations, and contacts the customer answered.
    private func goingQuiet(_ context: CustomerContext, at time: Instant) -> (Signal.Kind, String, String, [SourceRef])? {
        guard context.profile[.stage] != .churned else { return nil }
        var activity: [(at: Instant, source: SourceRef)] = context.notes.filter { $0.at <= time }.map { ($0.at, .note($0.id)) }
        activity += context.contacts.filter { contact in
            contact.at <= time && [.accepted, .declined, .dismissed].contains(contact.outcome)
        }.map { ($0.at, .contact($0.id)) }
        activity.sort { ($0.at, $0.source) < ($1.at, $1.source) }
        guard activity.count >= rules.quietMinimumActivities, let last = activity.last else { return nil }
        let gaps = zip(activity.dropFirst(), activity).map { $0.at.millisecondsSince1970 - $1.at.millisecondsSince1970 }.sorted()
        let typical = gaps[gaps.count / 2]
        let silence = time.millisecondsSince1970 - last.at.millisecondsSince1970
        let threshold = max(Int64(rules.quietFactor) * typical, Int64(rules.quietMinimumDays) * Instant.millisecondsPerDay)
        guard silence > threshold else { return nil }
        let typicalDays = max(1, Int(typical / Instant.millisecondsPerDay))
        let silentDays = Int(silence / Instant.millisecondsPerDay)
        return (
            .goingQuiet,
            "usually active every \(DurationText.days(typicalDays)) (median of \(gaps.count) gaps), silent for \(DurationText.days(silentDays)) since \(last.at.utcDay)",
            "a personal check-in: ask how they are and whether anything changed; no offers", [last.source]
        )
    }

    private func recurringPain(_ context: CustomerContext, at time: Instant) -> [(Signal.Kind, String, String, [SourceRef])] {
        let since = time.minus(days: rules.recurringPainDays)
        return rules.recurringPains.compactMap { pain in
            let matches = pain.matches.map(ContactGate.normalized)
            let hits = context.contacts.filter { contact in
                let topic = ContactGate.normalized(contact.topic)
                return contact.at > since && contact.at <= time && matches.contains { topic.contains($0) }
            }
            guard hits.count >= rules.recurringPainCount else { return nil }
            // Once: a contact about the fix, whatever its outcome, means it was suggested.
            let fix = ContactGate.normalized(pain.fixTopic)
            guard !context.contacts.contains(where: { $0.at <= time && ContactGate.normalized($0.topic).contains(fix) }) else { return nil }
            return (
                .recurringPain, "\(hits.count) contacts about \(pain.matches[0]) since \(hits.last!.at.utcDay)",
                "\(pain.suggestion) (once: record the contact with topic \"\(pain.fixTopic)\")", hits.map { .contact($0.id) }
            )
        }
    }

    private func lifeEventsWithoutFollowUp(_ context: CustomerContext, at time: Instant) -> [(Signal.Kind, String, String, [SourceRef])] {
        let today = time.utcDay.daysSince1970
        let conversations = context.conversations(by: time, rules: rules)
        return context.profile.lifeEvents.compactMap { event in
            let age = today - event.date.daysSince1970
            guard age >= 0, age <= rules.lifeEventRecentDays else { return nil }
            let start = Instant(millisecondsSince1970: Int64(event.date.daysSince1970) * Instant.millisecondsPerDay)
            guard !conversations.contains(where: { $0.at >= start }) else { return nil }
            let meaning = rules.lifeEvents[event.typeName]
            let name = event.typeName.replacingOccurrences(of: "_", with: " ")
            return (
                .lifeEventWithoutFollowUp, "\(name) on \(event.date) and no conversation since",
                meaning?.nextStep ?? "a personal conversation about the \(name)", [.lifeEvent(event.id)]
            )
        }
    }

    private func overdueFollowUps(_ context: CustomerContext, at time: Instant) -> [(Signal.Kind, String, String, [SourceRef])] {
        let today = time.utcDay
        return BriefBuilder.openFollowUps(context.notes, at: time).compactMap { note in
            guard let date = note.followUp, date < today else { return nil }
            return (
                .followUpOverdue, "\(note.author) planned to follow up by \(date); no conversation since \(note.at.utcDay)",
                "follow up now (\(note.author))", [.note(note.id)]
            )
        }
    }

    private func continuityBroken(_ context: CustomerContext, at time: Instant) -> (Signal.Kind, String, String, [SourceRef])? {
        let latest = Array(context.conversations(by: time, rules: rules).prefix(rules.continuityBreak))
        guard latest.count == rules.continuityBreak, Set(latest.map(\.author)).count == latest.count else { return nil }
        let assigned = context.profile[.advisor]
        let who = latest.map(\.author).joined(separator: ", ")
        return (
            .continuityBroken, "the last \(latest.count) conversations were with \(latest.count) different advisors (\(who))",
            assigned.map { "let \($0), the assigned advisor, hold the next conversation" } ?? "assign one advisor and let them hold the next conversation",
            latest.map { .note($0.id) } + (assigned == nil ? [] : [.field("advisor")])
        )
    }
}

extension StoreReader {
    /// The signals of every customer (or those in `scope`) at `time`, by customer id,
    /// each with its reason, next step and the contact gate's answer. Signals that
    /// come from profiling (going quiet, recurring pain, a model's) appear only for
    /// customers whose data may be used for profiling.
    public func signals(
        in scope: String? = nil, at time: Instant, rules: ContextRules = .standard, model: (any CustomerInsightModel)? = nil
    ) throws -> [Signal] {
        let detector = SignalDetector(rules: rules, model: model)
        let gate = ContactGate(rules: rules)
        var found: [Signal] = []
        var after: CustomerID?
        while true {
            let page = try customers(matching: CustomerFilter(scope: scope, after: after, limit: 1000))
            for summary in page {
                found += try signals(of: summary.id, at: time, detector: detector, gate: gate)
            }
            guard page.count == 1000, let last = page.last else { return found }
            after = last.id
        }
    }

    /// The signals of one customer at `time`.
    public func signals(
        of customer: CustomerID, at time: Instant, rules: ContextRules = .standard, model: (any CustomerInsightModel)? = nil
    ) throws -> [Signal] {
        try signals(of: customer, at: time, detector: SignalDetector(rules: rules, model: model), gate: ContactGate(rules: rules))
    }

    private func signals(of customer: CustomerID, at time: Instant, detector: SignalDetector, gate: ContactGate) throws -> [Signal] {
        let context = try context(of: customer, at: time, rules: detector.rules)
        let request = detector.proposedContact(for: context, at: time)
        return try detector.signals(of: context, facts: contactFacts(of: customer, for: request, gate: gate), at: time)
    }
}

extension CustomerStore {
    /// The signals of every customer (or those in `scope`); one read. See ``StoreReader/signals(in:at:rules:model:)``.
    public func signals(
        in scope: String? = nil, at time: Instant, rules: ContextRules = .standard, model: (any CustomerInsightModel)? = nil
    ) throws -> [Signal] {
        try readNow { try $0.signals(in: scope, at: time, rules: rules, model: model) }
    }
}
