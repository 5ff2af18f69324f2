import HTTPTypes
import OxpeckerConsole
import OxpeckerProtocol
import OxpeckerStore
import Testing

/// The console is safe by default: only the browser that opened the start URL, only at
/// 127.0.0.1:PORT or localhost:PORT, only forms that carry the session's CSRF token.
@Suite("Console security")
struct ConsoleSecurityTests {
    @Test("without the session cookie every page and form is refused with 403, and a wrong key opens no session")
    func noCookieIsRefused() async throws {
        try await LiveConsole.run(prepare: TestCustomers.add) { console in
            let browser = console.browser()
            for path in ["/", "/?q=jana", "/customers/c-1001", "/conflicts", "/sync", "/customers/c-1001?channel=sms&purpose=marketing"] {
                let answer = try await browser.get(path)
                #expect(answer.status == 403, "GET \(path)")
                #expect(!answer.body.contains("Nguyễn"), "GET \(path) shows nothing of the store")
            }
            let before = try await console.outboxCount()
            let post = try await browser.post("/customers/c-1001/notes", [("text", "x"), ("author", "a-1"), ("channel", "branch")])
            #expect(post.status == 403)
            let wrongKey = try await browser.get("/?key=" + String(repeating: "0", count: 64))
            #expect(wrongKey.status == 403)
            #expect(wrongKey.setCookie == nil)
            var forged = browser
            forged.cookie = String(repeating: "a", count: 64)
            #expect(try await forged.get("/").status == 403, "a made-up cookie is no session")
            #expect(try await console.outboxCount() == before)
        }
    }

    @Test("the start URL sets an HttpOnly, SameSite=Strict cookie and redirects to the address without the key")
    func startURLOpensASession() async throws {
        try await LiveConsole.run(prepare: TestCustomers.add) { console in
            let answer = try await console.browser().get(console.startPath)
            #expect(answer.status == 303)
            #expect(answer.location == "/")
            let cookie = try #require(answer.setCookie)
            #expect(cookie.contains("HttpOnly"))
            #expect(cookie.contains("SameSite=Strict"))
            #expect(cookie.contains("Path=/"))
            #expect(cookie.hasPrefix("oxpecker_console_\(console.port)="), "one cookie per console port")
            #expect(!cookie.contains(console.secret.text), "the cookie is a session id, not the key")
            var browser = console.browser()
            browser.cookie = try #require(answer.sessionCookie)
            let home = try await browser.get("/")
            #expect(home.status == 200)
            #expect(home.body.contains("Nguyễn Thị Hương"))
            #expect(!home.body.contains(console.secret.text), "the key is never shown again")
        }
    }

    @Test("a Host header other than 127.0.0.1:PORT or localhost:PORT is refused with 421 (DNS rebinding)")
    func wrongHostIsRefused() async throws {
        try await LiveConsole.run(prepare: TestCustomers.add) { console in
            var browser = try await console.signedInBrowser()
            for host in ["attacker.example:\(console.port)", "attacker.example", "127.0.0.1:\(console.port + 1)", "127.0.0.1", "0.0.0.0:\(console.port)"] {
                browser.host = host
                let answer = try await browser.get("/customers/c-1001")
                #expect(answer.status == 421, "Host: \(host)")
                #expect(!answer.body.contains("Nguyễn"))
                let start = try await browser.get(console.startPath)
                #expect(start.status == 421 && start.setCookie == nil, "the key opens no session at Host: \(host)")
            }
            browser.host = "localhost:\(console.port)"
            #expect(try await browser.get("/customers/c-1001").status == 200)
            browser.host = "LOCALHOST:\(console.port)"
            #expect(try await browser.get("/").status == 200, "host names are case-insensitive")
        }
    }

    @Test("a POST without the CSRF token, with another session's or a wrong one is refused with 403 and writes nothing")
    func csrfIsChecked() async throws {
        try await LiveConsole.run(prepare: TestCustomers.add) { console in
            let browser = try await console.signedInBrowser()
            let other = try await console.signedInBrowser()
            let othersToken = try #require(try await other.get("/customers/c-1001").csrfToken)
            let ownToken = try #require(try await browser.get("/customers/c-1001").csrfToken)
            #expect(othersToken != ownToken, "each session has its own token")
            let notesBefore = try await console.store.read { try $0.notes(of: TestCustomers.huong).count }
            let outboxBefore = try await console.outboxCount()
            let note = [("text", "Forged"), ("author", "mallory"), ("channel", "branch")]
            let attempts: [(String, [(String, String)])] = [
                ("/customers/c-1001/notes", note),
                ("/customers/c-1001/notes", [("csrf", "")] + note),
                ("/customers/c-1001/notes", [("csrf", othersToken)] + note),
                ("/customers/c-1001/notes", [("csrf", String(ownToken.dropLast()) + (ownToken.hasSuffix("0") ? "1" : "0"))] + note),
                ("/customers/c-1001/consents", [("purpose", "marketing"), ("decision", "grant"), ("source", "x")]),
                ("/sync", []),
            ]
            for (path, fields) in attempts {
                let answer = try await browser.post(path, fields)
                #expect(answer.status == 403, "POST \(path) \(fields.first?.0 ?? "")")
            }
            #expect(try await console.store.read { try $0.notes(of: TestCustomers.huong).count } == notesBefore)
            #expect(try await console.outboxCount() == outboxBefore)
        }
    }

    @Test("a form sent from another origin is refused even with the right token")
    func foreignOriginIsRefused() async throws {
        try await LiveConsole.run(prepare: TestCustomers.add) { console in
            let browser = try await console.signedInBrowser()
            let token = try #require(try await browser.get("/customers/c-1001").csrfToken)
            let before = try await console.outboxCount()
            let answer = try await browser.post(
                "/customers/c-1001/notes", [("csrf", token), ("text", "x"), ("author", "a"), ("channel", "branch")],
                headers: [.origin: "http://attacker.example"])
            #expect(answer.status == 403)
            #expect(try await console.outboxCount() == before)
        }
    }

    @Test("a form sent from the console's own origin, as a browser sends it, is accepted; Origin null is refused")
    func ownOriginIsAccepted() async throws {
        try await LiveConsole.run(prepare: TestCustomers.add) { console in
            let browser = try await console.signedInBrowser()
            let token = try #require(try await browser.get("/customers/c-1001").csrfToken)
            let before = try await console.outboxCount()
            let refused = try await browser.post(
                "/customers/c-1001/notes", [("csrf", token), ("text", "x"), ("author", "a"), ("channel", "branch")],
                headers: [.origin: "null"])
            #expect(refused.status == 403)
            #expect(try await console.outboxCount() == before)
            let answer = try await browser.post(
                "/customers/c-1001/notes", [("csrf", token), ("text", "from the page"), ("author", "a"), ("channel", "branch")],
                headers: [.origin: "http://127.0.0.1:\(console.port)"])
            #expect(answer.status == 303)
            #expect(try await console.outboxCount() == before + 1)
        }
    }

    @Test("every answer forbids scripts, frames and referrers to other sites, and is not cached")
    func securityHeaders() async throws {
        try await LiveConsole.run(prepare: TestCustomers.add) { console in
            let browser = try await console.signedInBrowser()
            for answer in [try await browser.get("/customers/c-1001"), try await console.browser().get("/")] {
                let policy = try #require(answer.headers[.contentSecurityPolicy])
                #expect(policy.contains("default-src 'none'") && !policy.contains("script-src"))
                #expect(policy.contains("frame-ancestors 'none'"))
                #expect(answer.headers[.cacheControl] == "no-store")
                // Not no-referrer: under it a browser sends `Origin: null` with the console's own forms (refused).
                #expect(answer.headers[HTTPField.Name("Referrer-Policy")!] == "same-origin")
                #expect(answer.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
            }
        }
    }

    @Test("the secret is 64 hex digits, new each time, compared in full")
    func secrets() {
        let one = ConsoleSecret.random()
        #expect(one.text.count == 64 && one.text.allSatisfy(\.isHexDigit))
        #expect(one != ConsoleSecret.random())
        #expect(one.matches(one.text))
        #expect(!one.matches(one.text.dropLast()))
        #expect(!one.matches(one.text + "0"))
        #expect(!one.matches(""))
        #expect(!"\(one)".contains(one.text), "a description never shows the secret")
    }
}
