import HTTPTypes
import OxpeckerConsole
import OxpeckerProtocol
import OxpeckerStore
import Testing

/// Writing: every form goes through the store's writer, so its change waits in the outbox
/// like the CLI's; bad input shows the CLI's message on the page and writes nothing.
@Suite("Console writes")
struct ConsoleWriteTests {
    static let page = "/customers/c-1001"

    @Test("adding a note writes it with its author, channel, sentiment and follow-up, and puts one change in the outbox")
    func addNote() async throws {
        try await LiveConsole.run(prepare: TestCustomers.add) { console in
            let browser = try await console.signedInBrowser()
            let before = try await console.outboxCount()
            let text = "Hỏi về tiết kiệm;\r\nchce spořit na bydlení"
            let answer = try await browser.submit(
                "/customers/c-1001/notes", from: Self.page,
                [("text", text), ("author", "a-417"), ("channel", "video"), ("sentiment", "neutral"), ("follow_up", "2027-01-15")])
            #expect(answer.status == 303)
            #expect(answer.location == "/customers/c-1001?saved=note#notes")
            #expect(try await console.outboxCount() == before + 1)
            let outbox = try await console.store.read { try $0.outbox() }
            #expect(outbox.last?.entity == .note)
            let note = try #require(try await console.store.read { try $0.notes(of: TestCustomers.huong) }.first)
            #expect(note.text == "Hỏi về tiết kiệm;\nchce spořit na bydlení", "the browser's CRLF is stored as a newline")
            #expect(note.author == "a-417" && note.channel == .video && note.sentiment == .neutral)
            #expect(note.followUp?.description == "2027-01-15")
            let shown = try await browser.get("/customers/c-1001?saved=note")
            #expect(shown.body.contains("Note added."))
            #expect(shown.body.contains("chce spořit na bydlení"))
        }
    }

    @Test("bad input shows the store's or the CLI's message on the page, keeps what was typed, and writes nothing", arguments: [
        ([("text", "Ahoj"), ("author", ""), ("channel", "branch")], 400, "invalid value for author: must not be empty"),
        ([("text", ""), ("author", "a-417"), ("channel", "branch")], 400, "invalid value for note text: must not be empty"),
        ([("text", "Ahoj"), ("author", "a-417"), ("channel", "pigeon")], 400, "channel: &#39;pigeon&#39; is not one of: phone, sms"),
        ([("text", "Ahoj"), ("author", "a-417"), ("channel", "branch"), ("sentiment", "angry")], 400, "sentiment: &#39;angry&#39; is not one of"),
        ([("text", "Ahoj"), ("author", "a-417"), ("channel", "branch"), ("follow_up", "15.1.2027")], 400,
         "follow_up: &#39;15.1.2027&#39; is not a valid date; expected YYYY-MM-DD"),
        ([("text", String(repeating: "x", count: Limits.noteTextCharacters + 1)), ("author", "a-417"), ("channel", "branch")], 400,
         "invalid value for note text: longer than"),
    ])
    func badNote(fields: [(String, String)], status: Int, message: String) async throws {
        try await LiveConsole.run(prepare: TestCustomers.add) { console in
            let browser = try await console.signedInBrowser()
            let before = try await console.outboxCount()
            let notesBefore = try await console.store.read { try $0.notes(of: TestCustomers.huong).count }
            let answer = try await browser.submit("/customers/c-1001/notes", from: Self.page, fields)
            #expect(answer.status == status)
            #expect(answer.body.contains("role=\"alert\">" + message), "the page shows: \(message)")
            if let text = fields.first(where: { $0.0 == "text" })?.1, !text.isEmpty, text.count < 100 {
                #expect(answer.body.contains(">\(text)</textarea>"), "what was typed is kept")
            }
            #expect(try await console.outboxCount() == before)
            #expect(try await console.store.read { try $0.notes(of: TestCustomers.huong).count } == notesBefore)
        }
    }

    @Test("a note for an unknown customer is a 404 with the CLI's message, and writes nothing")
    func noteForUnknownCustomer() async throws {
        try await LiveConsole.run(prepare: TestCustomers.add) { console in
            let browser = try await console.signedInBrowser()
            let before = try await console.outboxCount()
            let answer = try await browser.submit(
                "/customers/c-9999/notes", from: Self.page, [("text", "x"), ("author", "a"), ("channel", "branch")])
            #expect(answer.status == 404)
            #expect(answer.body.contains("unknown customer &#39;c-9999&#39;"))
            #expect(try await console.outboxCount() == before)
        }
    }

    @Test("redacting a note removes its text, keeps who and when, and puts the redaction in the outbox")
    func redactNote() async throws {
        try await LiveConsole.run(prepare: TestCustomers.add) { console in
            let browser = try await console.signedInBrowser()
            let notes = try await console.store.read { try $0.notes(of: TestCustomers.huong) }
            let target = try #require(notes.first { $0.text == TestCustomers.markupNote })
            let before = try await console.outboxCount()
            let answer = try await browser.submit(
                "/customers/c-1001/notes/\(target.id)/redact", from: Self.page, [("by", "a-417"), ("reason", "typed by mistake")])
            #expect(answer.status == 303)
            #expect(try await console.outboxCount() == before + 1)
            let redacted = try #require(try await console.store.read { try $0.notes(of: TestCustomers.huong) }.first { $0.id == target.id })
            #expect(redacted.text == nil && redacted.redaction?.by == "a-417" && redacted.redaction?.reason == "typed by mistake")
            let page = try await browser.get("/customers/c-1001")
            #expect(page.body.contains("Text removed: redacted by a-417"))
            #expect(!page.body.contains("quoted"))
            let again = try await browser.submit("/customers/c-1001/notes/\(target.id)/redact", from: Self.page, [("by", "a-417")])
            #expect(again.location?.contains("already-redacted") == true)
            #expect(try await console.outboxCount() == before + 1)
        }
    }

    @Test("a redaction names a note of the page's customer; another's note, or no 'by', writes nothing")
    func badRedaction() async throws {
        try await LiveConsole.run(prepare: TestCustomers.add) { console in
            let browser = try await console.signedInBrowser()
            let janasNote = try #require(try await console.store.read { try $0.notes(of: TestCustomers.jana) }.first)
            let huongsNote = try #require(try await console.store.read { try $0.notes(of: TestCustomers.huong) }.first)
            let before = try await console.outboxCount()
            let other = try await browser.submit("/customers/c-1001/notes/\(janasNote.id)/redact", from: Self.page, [("by", "a-417")])
            #expect(other.status == 404)
            #expect(other.body.contains("unknown note &#39;\(janasNote.id)&#39;"))
            let noBy = try await browser.submit("/customers/c-1001/notes/\(huongsNote.id)/redact", from: Self.page, [("by", "")])
            #expect(noBy.status == 400)
            #expect(noBy.body.contains("invalid value for redacted by: must not be empty"))
            #expect(try await console.outboxCount() == before)
        }
    }

    @Test("a consent decision is recorded like `oxpecker consent`; a bad purpose shows the message and writes nothing")
    func consent() async throws {
        try await LiveConsole.run(prepare: TestCustomers.add) { console in
            let browser = try await console.signedInBrowser()
            let before = try await console.outboxCount()
            let answer = try await browser.submit(
                "/customers/c-1001/consents", from: Self.page, [("purpose", "marketing"), ("decision", "grant"), ("source", "branch:HN01")])
            #expect(answer.status == 303)
            #expect(try await console.outboxCount() == before + 1)
            let states = try await console.store.read { try $0.profile(of: TestCustomers.huong) }.consents
            #expect(states.first { $0.purpose == "marketing" }?.status == .granted)
            #expect(states.first { $0.purpose == "marketing" }?.decidedBy.source == "branch:HN01")

            let bad = try await browser.submit(
                "/customers/c-1001/consents", from: Self.page, [("purpose", "gossip"), ("decision", "grant"), ("source", "branch")])
            #expect(bad.status == 400)
            #expect(bad.body.contains("purpose: &#39;gossip&#39; is not one of: marketing, profiling"))
            let noSource = try await browser.submit(
                "/customers/c-1001/consents", from: Self.page, [("purpose", "profiling"), ("decision", "withdraw"), ("source", "")])
            #expect(noSource.status == 400)
            #expect(noSource.body.contains("invalid value for source: must not be empty"))
            let noDecision = try await browser.submit("/customers/c-1001/consents", from: Self.page, [("purpose", "profiling"), ("source", "x")])
            #expect(noDecision.status == 400)
            #expect(try await console.outboxCount() == before + 1)
        }
    }

    @Test("a conflict's values are shown side by side; choosing one sets the field and resolves it")
    func resolveConflict() async throws {
        let folder = try ScratchFolder()
        let other = try CustomerStore.create(at: folder.path("other.oxpecker"), options: StoreOptions(durability: .normal))
        defer { try? other.close() }
        try await LiveConsole.run(prepare: { store in
            try await TestCustomers.add(to: store)
            try await other.apply(try await store.read { try $0.outbox() })
            try await store.write { try $0.set(.legalName, to: "Nováková Jana", of: TestCustomers.jana) }
            try await other.write { try $0.set(.legalName, to: "Jana Novákova", of: TestCustomers.jana) }
            try await store.apply(try await other.read { try $0.outbox() })
        }) { console in
            #expect(try await console.store.read { try $0.conflicts() }.count == 1)
            let browser = try await console.signedInBrowser()
            let page = try await browser.get("/conflicts")
            #expect(page.body.contains("“Nováková Jana”") && page.body.contains("“Jana Novákova”"))
            #expect(try await browser.get("/customers/c-1002").body.contains("Concurrent values wait for a person"))
            let before = try await console.outboxCount()
            let chosen = JSONValue.string("Nováková Jana").canonicalText
            let answer = try await browser.submit("/customers/c-1002/conflicts/legal_name", from: "/conflicts", [("value", chosen)])
            #expect(answer.status == 303)
            #expect(try await console.store.read { try $0.conflicts() }.isEmpty)
            #expect(try await console.store.read { try $0.profile(of: TestCustomers.jana) }[.legalName] == "Nováková Jana")
            #expect(try await console.outboxCount() == before + 1)
            #expect(try await browser.get("/conflicts?saved=resolved").body.contains("No conflicts"))
            let stale = try await browser.submit("/customers/c-1002/conflicts/legal_name", from: "/customers/c-1002", [("value", chosen)])
            #expect(stale.status == 400)
            #expect(stale.body.contains("has no conflict any more"))
            #expect(try await console.outboxCount() == before + 1)
        }
    }

    @Test("editing a note gives it a new text and keeps the earlier one as a revision; one change in the outbox")
    func editNote() async throws {
        try await LiveConsole.run(prepare: TestCustomers.add) { console in
            let browser = try await console.signedInBrowser()
            let note = try #require(try await console.store.read { try $0.notes(of: TestCustomers.jana) }.first)
            let before = try await console.outboxCount()
            let answer = try await browser.submit(
                "/customers/c-1002/notes/\(note.id)/edit", from: "/customers/c-1002", [("text", "Ptala se na hypotéku; ozve se v lednu"), ("author", "a-212")])
            #expect(answer.status == 303)
            #expect(try await console.outboxCount() == before + 1)
            let edited = try #require(try await console.store.read { try $0.notes(of: TestCustomers.jana) }.first { $0.id == note.id })
            #expect(edited.text == "Ptala se na hypotéku; ozve se v lednu" && edited.revisionCount == 2)
            #expect(try await browser.get("/customers/c-1002").body.contains("edited, 2 revisions"))
            let empty = try await browser.submit("/customers/c-1002/notes/\(note.id)/edit", from: "/customers/c-1002", [("text", ""), ("author", "a-212")])
            #expect(empty.status == 400 && empty.body.contains("invalid value for note text: must not be empty"))
            #expect(try await console.outboxCount() == before + 1)
        }
    }

    @Test("a life event and a contact are recorded like `oxpecker life-event` and `oxpecker contact`; bad input writes nothing")
    func lifeEventAndContact() async throws {
        try await LiveConsole.run(prepare: TestCustomers.add) { console in
            let browser = try await console.signedInBrowser()
            let before = try await console.outboxCount()
            let event = try await browser.submit(
                "/customers/c-1002/life-events", from: "/customers/c-1002",
                [("type", "home_purchase"), ("date", "2026-10-01"), ("source", "advisor"), ("confidence", "80"), ("detail", "byt v Brně")])
            #expect(event.status == 303)
            let events = try await console.store.read { try $0.lifeEvents(of: TestCustomers.jana) }
            #expect(events.count == 1 && events[0].type == .homePurchase && events[0].confidence == 80 && events[0].detail == "byt v Brně")
            let contact = try await browser.submit(
                "/customers/c-1002/contacts", from: "/customers/c-1002",
                [("channel", "email"), ("purpose", "advice"), ("topic", "mortgage rates"), ("outcome", "accepted")])
            #expect(contact.status == 303)
            let contacts = try await console.store.read { try $0.contacts(of: TestCustomers.jana) }
            #expect(contacts.count == 1 && contacts[0].outcome == .accepted && contacts[0].topic == "mortgage rates")
            #expect(try await console.outboxCount() == before + 2)
            let page = try await browser.get("/customers/c-1002")
            #expect(page.body.contains("byt v Brně") && page.body.contains("mortgage rates"))

            let bad: [(String, [(String, String)], String)] = [
                ("/customers/c-1002/life-events", [("type", "lottery"), ("date", "2026-10-01"), ("source", "advisor")], "type: &#39;lottery&#39; is not one of"),
                ("/customers/c-1002/life-events", [("type", "marriage"), ("date", ""), ("source", "advisor")], "date: required"),
                ("/customers/c-1002/life-events", [("type", "marriage"), ("date", "2026-10-01"), ("source", "advisor"), ("confidence", "120")],
                 "invalid value for confidence: 120 is not 0 to 100"),
                ("/customers/c-1002/contacts", [("channel", "email"), ("purpose", "advice"), ("topic", ""), ("outcome", "accepted")],
                 "invalid value for topic: must not be empty"),
                ("/customers/c-1002/contacts", [("channel", "email"), ("purpose", "advice"), ("topic", "x"), ("outcome", "maybe")],
                 "outcome: &#39;maybe&#39; is not one of"),
            ]
            for (path, fields, message) in bad {
                let answer = try await browser.submit(path, from: "/customers/c-1002", fields)
                #expect(answer.status == 400, "\(path) \(fields)")
                #expect(answer.body.contains(message), "shows: \(message)")
            }
            #expect(try await console.outboxCount() == before + 2)
        }
    }
}
