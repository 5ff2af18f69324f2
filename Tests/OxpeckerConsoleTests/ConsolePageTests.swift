import HTTPTypes
import OxpeckerConsole
import OxpeckerProtocol
import OxpeckerStore
import Testing

/// Reading: the customer list, the search, the customer's page, the contact gate, conflicts, sync status.
@Suite("Console pages")
struct ConsolePageTests {
    @Test("search finds names and note words with accents ignored, and the hit links to the customer")
    func searchIgnoresAccents() async throws {
        try await LiveConsole.run(prepare: TestCustomers.add) { console in
            let browser = try await console.signedInBrowser()
            let byName = try await browser.get("/?q=nguyen+huong")
            #expect(byName.status == 200)
            #expect(byName.body.contains("Nguyễn Thị Hương"))
            #expect(byName.body.contains("href=\"/customers/c-1001\""))
            #expect(!byName.body.contains("Jana"))
            let czech = try await browser.get("/?q=" + Browser.encode("novakova"))
            #expect(czech.body.contains("Jana Nováková"))
            let noteWord = try await browser.get("/?q=hypoteku")
            #expect(noteWord.body.contains("Jana Nováková"), "a note word, typed without its accent")
            #expect(noteWord.body.contains("<mark>hypotéku</mark>"), "the snippet marks the match")
            #expect(noteWord.body.contains("/customers/c-1002#note-"))
            let accented = try await browser.get("/?q=" + Browser.encode("vay mua nhà"))
            #expect(accented.body.contains("Nguyễn Thị Hương"))
            let none = try await browser.get("/?q=zzzz")
            #expect(none.status == 200 && none.body.contains("No customer"))
        }
    }

    @Test("the customer list, in UTF-8 with a charset meta")
    func customerList() async throws {
        try await LiveConsole.run(prepare: TestCustomers.add) { console in
            let answer = try await console.signedInBrowser().get("/")
            #expect(answer.status == 200)
            #expect(answer.headers[.contentType] == "text/html; charset=utf-8")
            #expect(answer.body.contains("<meta charset=\"utf-8\">"))
            #expect(answer.body.contains("Nguyễn Thị Hương") && answer.body.contains("Jana Nováková"))
            #expect(!answer.body.contains("<script"), "no script on any page")
        }
    }

    @Test("the customer page shows the brief first, then the notes, consents and the rest, everything HTML-escaped")
    func customerPage() async throws {
        try await LiveConsole.run(prepare: TestCustomers.add) { console in
            let answer = try await console.signedInBrowser().get("/customers/c-1001")
            #expect(answer.status == 200)
            let body = answer.body
            let brief = try #require(body.range(of: "id=\"brief-title\""))
            let notes = try #require(body.range(of: "id=\"notes-title\""))
            let consents = try #require(body.range(of: "id=\"consents-title\""))
            #expect(brief.lowerBound < notes.lowerBound && notes.lowerBound < consents.lowerBound, "the brief comes first")
            let expected = try console.store.brief(
                of: TestCustomers.huong, at: Instant(millisecondsSince1970: WallClock.system.now()))
            #expect(!expected.statements.isEmpty)
            for statement in expected.statements {
                #expect(body.contains(Self.escaped(statement.text)), "brief statement: \(statement.text)")
            }
            #expect(body.contains(TestCustomers.vietnameseNote), "Vietnamese text intact")
            #expect(body.contains("Nguyễn Thị Hương"))
            #expect(!body.contains(TestCustomers.markupNote), "a note's markup is never HTML")
            #expect(body.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;"))
            let noteIDs = try await console.store.read { try $0.notes(of: TestCustomers.huong).map(\.id) }
            for id in noteIDs { #expect(body.contains("id=\"note-\(id)\"")) }
            #expect(body.contains("withdrawn") && body.contains("mobile_app"), "the consents")
            #expect(body.contains("a-417"))
        }
    }

    @Test("a brief statement links to the record it comes from")
    func briefLinksToSources() async throws {
        try await LiveConsole.run(prepare: TestCustomers.add) { console in
            let body = try await console.signedInBrowser().get("/customers/c-1001").body
            let brief = try console.store.brief(of: TestCustomers.huong, at: Instant(millisecondsSince1970: WallClock.system.now()))
            let linked = brief.statements.flatMap(\.sources).filter { $0.kind == .consent || $0.kind == .note || $0.kind == .field }
            #expect(!linked.isEmpty)
            for source in linked {
                let anchor = source.kind == .field ? "field-\(source.id)" : "\(source.kind.rawValue)-\(source.id)"
                #expect(body.contains("href=\"#\(anchor)\""), "a link to \(source)")
                #expect(body.contains("id=\"\(anchor)\""), "the record \(source) is on the page")
            }
        }
    }

    @Test("an unknown or invalid customer id is a 404 or 400 page with the CLI's message")
    func unknownCustomer() async throws {
        try await LiveConsole.run(prepare: TestCustomers.add) { console in
            let browser = try await console.signedInBrowser()
            let unknown = try await browser.get("/customers/c-404")
            #expect(unknown.status == 404)
            #expect(unknown.body.contains("unknown customer &#39;c-404&#39;"))
            let invalid = try await browser.get("/customers/" + Browser.encode("<b>"))
            #expect(invalid.status == 400)
            #expect(!invalid.body.contains("<b>"))
            #expect(try await browser.get("/no/such/page").status == 404)
        }
    }

    @Test("the contact gate answers yes or no with its reason per check")
    func contactGate() async throws {
        try await LiveConsole.run(prepare: TestCustomers.add) { console in
            let browser = try await console.signedInBrowser()
            let answer = try await browser.get("/customers/c-1001?channel=sms&purpose=marketing&topic=savings")
            #expect(answer.status == 200)
            let decision = try console.store.mayContact(
                TestCustomers.huong, on: .sms, for: "marketing", topic: "savings", at: Instant(millisecondsSince1970: WallClock.system.now()))
            #expect(!decision.allowed, "marketing consent was withdrawn")
            #expect(answer.body.contains("No: sms for marketing (savings)"))
            for reason in decision.reasons {
                #expect(answer.body.contains(Self.escaped(reason.message)), "reason \(reason.check): \(reason.message)")
            }
            #expect(answer.body.contains("✗ no</span> <strong>consent</strong>"))
            // Every check, once, in the gate's order, its verdict in words.
            #expect(decision.reasons.count == GateReason.Check.allCases.count)
            try Self.expectEveryCheck(of: decision, in: answer.body)
            #expect(answer.body.contains("✓ yes</span> <strong>do not contact</strong>: the customer has not asked not to be contacted"))
            #expect(answer.body.contains(#"<span class="na">– does not apply</span> <strong>quiet hours</strong>: no quiet hours set"#))
            let service = try await browser.get("/customers/c-1001?channel=branch&purpose=service")
            let allowed = try console.store.mayContact(
                TestCustomers.huong, on: .branch, for: "service", at: Instant(millisecondsSince1970: WallClock.system.now()))
            #expect(service.body.contains(allowed.allowed ? "Yes: branch for service" : "No: branch for service"))
            try Self.expectEveryCheck(of: allowed, in: service.body)
            #expect(service.body.contains("– does not apply</span> <strong>consent</strong>: no consent is needed for service"))
            let bad = try await browser.get("/customers/c-1001?channel=pigeon&purpose=service")
            #expect(bad.status == 400)
            #expect(bad.body.contains("channel: &#39;pigeon&#39; is not one of: phone, sms"))
            let badPurpose = try await browser.get("/customers/c-1001?channel=sms&purpose=gossip")
            #expect(badPurpose.status == 400)
            #expect(badPurpose.body.contains("gossip"))
        }
    }

    @Test("the sync page shows the outbox and, without a token, says how to sync")
    func syncPage() async throws {
        try await LiveConsole.run(prepare: TestCustomers.add) { console in
            let browser = try await console.signedInBrowser()
            let page = try await browser.get("/sync")
            #expect(page.status == 200)
            let waiting = try await console.outboxCount()
            #expect(page.body.contains("<td>\(waiting)</td>"))
            #expect(page.body.contains("never synced"))
            let answer = try await browser.submit("/sync", from: "/customers/c-1001", [])
            #expect(answer.status == 409)
            #expect(answer.body.contains("without a device token"))
        }
    }

    @Test("signals for a scope: who needs attention, why, the next step and the gate's answer")
    func signals() async throws {
        try await LiveConsole.run(prepare: TestCustomers.add) { console in
            let browser = try await console.signedInBrowser()
            let time = Instant(millisecondsSince1970: WallClock.system.now())
            let expected = try await console.store.read { try $0.signals(in: "branch:HN01", at: time) }
            #expect(expected.contains { $0.customer == TestCustomers.jana && $0.kind == .followUpOverdue })
            let page = try await browser.get("/signals?scope=branch%3AHN01")
            #expect(page.status == 200)
            for signal in expected {
                #expect(page.body.contains(Self.escaped(signal.reason)))
                #expect(page.body.contains(Self.escaped(signal.nextStep)))
            }
            #expect(page.body.contains("href=\"/customers/c-1002\""))
            let elsewhere = try await browser.get("/signals?scope=branch%3AXX99")
            #expect(elsewhere.body.contains("No customer needs attention now."))
        }
    }

    /// `text` as the pages escape it.
    /// The gate section of `body` shows each of `decision`'s reasons exactly once, in its
    /// order, as "✓ yes", "✗ no" or "– does not apply" before the check's name.
    static func expectEveryCheck(of decision: ContactDecision, in body: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let start = try #require(body.range(of: #"<section id="gate""#), sourceLocation: sourceLocation)
        let end = try #require(body.range(of: "</section>", range: start.upperBound..<body.endIndex), sourceLocation: sourceLocation)
        let gate = body[start.upperBound..<end.lowerBound]
        var after = gate.startIndex
        for reason in decision.reasons {
            let words = switch reason.verdict {
            case .passes: #"<span class="yes">✓ yes</span>"#
            case .blocks: #"<span class="no">✗ no</span>"#
            case .notApplicable: #"<span class="na">– does not apply</span>"#
            }
            let item = "<li>\(words) <strong>\(reason.check.rawValue.replacingOccurrences(of: "_", with: " "))</strong>: \(escaped(reason.message))"
            let found = try #require(gate.range(of: item, range: after..<gate.endIndex), "\(reason.check) missing or out of order", sourceLocation: sourceLocation)
            #expect(gate.components(separatedBy: item).count == 2, "\(reason.check) shown more than once", sourceLocation: sourceLocation)
            after = found.upperBound
        }
        #expect(gate.components(separatedBy: "<li>").count - 1 == GateReason.Check.allCases.count, sourceLocation: sourceLocation)
    }

    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "'", with: "&#39;")
    }
}
