import OxpeckerProtocol
import OxpeckerStore

/// The model of a customer's page: the brief first, the contact gate, then the
/// notes timeline, consents, life events, contact log and profile fields, with
/// the forms that write them (their values kept when a write was refused).
struct CustomerPage {
    var title: String
    var csrf: String
    var customer: String
    var customerHref: String
    var name: String
    var legalName: String?
    var facts: [Fact]
    var notice: String?
    var problem: String?
    var brief: BriefView
    var gateForm: GateForm
    var gate: GateView?
    var noteForm: NoteForm
    var notes: [NoteView]
    var noNotes: Bool
    var consents: [ConsentView]
    var consentHistory: [ConsentEventView]
    var consentForm: ConsentForm
    var lifeEvents: [LifeEventView]
    var lifeEventForm: LifeEventForm
    var contacts: [ContactView]
    var contactForm: ContactForm
    var fields: [FieldView]
    var conflicts: [ConflictView]
    var advisor: String
    // Mustache sees stored properties only (it reads them through Mirror): no computed flags.
    var hasConsentHistory = false
    var hasConflicts = false

    struct Fact { let label: String; let value: String }
    struct NoteView {
        let id: String
        let at: String
        let author: String
        let channel: String
        let sentiment: String?
        let followUp: String?
        let text: String?
        let edited: String?
        let redacted: Bool
        let redaction: String?
    }
    struct ConsentView { let purpose: String; let status: String; let granted: Bool; let source: String; let at: String; let id: String }
    struct ConsentEventView { let id: String; let purpose: String; let status: String; let source: String; let at: String }
    struct LifeEventView { let id: String; let type: String; let date: String; let source: String; let confidence: Int; let detail: String? }
    struct ContactView { let id: String; let at: String; let channel: String; let purpose: String; let topic: String; let outcome: String }
    struct FieldView { let name: String; let label: String; let value: String }
    struct ConflictView { let field: String; let label: String; let values: [String] }

    struct NoteForm {
        var text = ""
        var author = ""
        var followUp = ""
        var channels: [Option]
        var sentiments: [Option]
    }

    struct ConsentForm {
        var purposes: [Option]
        var source = ""
        var grant = true
    }

    struct LifeEventForm {
        var types: [Option]
        var date = ""
        var source = ""
        var confidence = ""
        var detail = ""
    }

    struct ContactForm {
        var channels: [Option]
        var outcomes: [Option]
        var purpose = ""
        var topic = ""
    }

    struct GateForm {
        var channels: [Option]
        var purposes: [Option]
        var topic = ""
    }

    /// Reads everything the page shows in one snapshot.
    static func load(
        _ id: CustomerID, from reader: StoreReader, at time: Instant, rules: ContextRules, csrf: String, advisor: String?
    ) throws -> CustomerPage {
        let profile = try reader.profile(of: id)
        let brief = try reader.brief(of: id, at: time, rules: rules)
        let notes = try reader.notes(of: id, limit: 500)
        let history = try reader.consentHistory(of: id)
        let advisorName = advisor ?? ""
        var page = CustomerPage(
            title: profile.displayName, csrf: csrf, customer: id.rawValue, customerHref: Links.customer(id), name: profile.displayName,
            legalName: profile[.legalName].flatMap { $0 == profile.displayName ? nil : $0 },
            facts: facts(of: profile), brief: BriefView(brief),
            gateForm: GateForm(
                channels: Option.list(Channel.rawValues, selected: profile[.preferredChannels]?.first?.rawValue),
                purposes: Option.list(rules.purposes.keys.sorted(), selected: "service")),
            noteForm: NoteForm(
                author: advisorName, channels: Option.list(Channel.rawValues, selected: "branch"),
                sentiments: Option.list(Sentiment.rawValues, selected: nil, blank: "not said")),
            notes: notes.map(noteView), noNotes: notes.isEmpty,
            consents: profile.consents.map { state in
                ConsentView(
                    purpose: DisplayText.words(state.purpose), status: state.status.rawValue, granted: state.status == .granted,
                    source: state.decidedBy.source, at: DisplayText.minute(state.decidedBy.at), id: state.decidedBy.id.rawValue)
            },
            consentHistory: history.reversed().map { event in
                ConsentEventView(
                    id: event.id.rawValue, purpose: DisplayText.words(event.purposeName), status: event.status?.rawValue ?? "unknown",
                    source: event.source, at: DisplayText.minute(event.at))
            },
            consentForm: ConsentForm(purposes: Option.list(ConsentPurpose.rawValues, selected: "marketing"), source: "branch"),
            lifeEvents: profile.lifeEvents.map { event in
                LifeEventView(
                    id: event.id.rawValue, type: DisplayText.words(event.typeName), date: event.date.description, source: event.source,
                    confidence: event.confidence, detail: event.detail)
            },
            lifeEventForm: LifeEventForm(types: Option.list(LifeEventType.rawValues, selected: nil), source: "advisor"),
            contacts: try reader.contacts(of: id, limit: 200).map { contact in
                ContactView(
                    id: contact.id.rawValue, at: DisplayText.minute(contact.at), channel: DisplayText.words(contact.channelName),
                    purpose: contact.purpose, topic: contact.topic, outcome: contact.outcomeName)
            },
            contactForm: ContactForm(
                channels: Option.list(Channel.rawValues, selected: "phone"), outcomes: Option.list(ContactOutcome.rawValues, selected: "accepted")),
            fields: profile.fields.keys.sorted().map { name in
                FieldView(name: name, label: DisplayText.words(name), value: DisplayText.value(profile.fields[name]?.value ?? .null))
            } + profile.sets.keys.sorted().map { name in
                FieldView(name: name, label: DisplayText.words(name), value: (profile.sets[name] ?? []).joined(separator: ", "))
            },
            conflicts: try reader.conflicts(of: id).map { conflict in
                ConflictView(
                    field: conflict.field, label: DisplayText.words(conflict.field),
                    values: conflict.candidates.map { DisplayText.value($0.value) })
            },
            advisor: advisorName)
        page.hasConsentHistory = !page.consentHistory.isEmpty
        page.hasConflicts = !page.conflicts.isEmpty
        return page
    }

    private static func facts(of profile: CustomerProfile) -> [Fact] {
        var facts: [Fact] = [Fact(label: "id", value: profile.id.rawValue)]
        for name in ["stage", "advisor", "segment", "language", "birth_date"] {
            if let value = profile.fields[name]?.value, !value.isNull {
                facts.append(Fact(label: DisplayText.words(name), value: DisplayText.value(value)))
            }
        }
        if let scopes = profile.sets["scopes"], !scopes.isEmpty { facts.append(Fact(label: "scopes", value: scopes.joined(separator: ", "))) }
        return facts
    }

    private static func noteView(_ note: Note) -> NoteView {
        NoteView(
            id: note.id.rawValue, at: DisplayText.minute(note.at), author: note.author,
            channel: note.channel.map { DisplayText.words($0.rawValue) } ?? "other", sentiment: note.sentiment?.rawValue,
            followUp: note.followUp?.description, text: note.text,
            edited: note.revisionCount > 1 ? "edited, \(note.revisionCount) revisions" : nil, redacted: note.redaction != nil,
            redaction: note.redaction.map { redaction in
                "redacted by \(redaction.by) at \(DisplayText.minute(redaction.at))" + (redaction.reason.map { ": \($0)" } ?? "")
            })
    }
}
