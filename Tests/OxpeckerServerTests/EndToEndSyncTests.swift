import Foundation
import OxpeckerProtocol
import Testing

/// The real `oxpecker-server` on a loopback port, real `oxpecker` CLI stores,
/// real SQLite files: devices edit offline, sync, and converge; the server dies
/// mid-push and nothing is lost or doubled; bad tokens and dead servers give
/// clear errors. Serialized: each test starts its own processes, and the machine
/// has two cores.
@Suite("End to end: oxpecker sync against a real oxpecker-server", .serialized)
struct EndToEndSyncTests {
    @Test("two stores edit the same customers offline, sync A B A: byte-identical exports, equal to the server's state", arguments: ServerBackend.all)
    func twoStoresConverge(backend: ServerBackend) async throws {
        let server = try await SyncServerProcess.start(backend)
        defer { server.killNow() }
        let tokenA = try await server.createToken(name: "laptop-a")
        let tokenB = try await server.createToken(name: "laptop-b")
        let folder = try ScratchFolder()
        let (a, _) = try await DeviceCLI.create(in: folder, named: "a.oxpecker")
        let (b, _) = try await DeviceCLI.create(in: folder, named: "b.oxpecker")

        // A creates the customers and syncs; B starts from the server (bootstrap).
        try await a.ok([
            "customer", "add", "c-1001", "--legal-name", "Jana Nováková", "--preferred-name", "Jana", "--stage", "prospect",
            "--advisor", "a-417", "--scope", "branch:HN01", "--add", "interests=sailing",
        ])
        try await a.ok(["customer", "add", "c-1002", "--legal-name", "Petr Svoboda", "--stage", "active", "--scope", "branch:HN01"])
        let firstNote = try await a.ok([
            "note", "add", "c-1001", "--text", "Asked about a mortgage", "--author", "a-417", "--channel", "branch",
            "--at", "2026-11-20T10:00:00Z",
        ]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try await a.ok(["consent", "c-1001", "--purpose", "marketing", "--grant", "--source", "branch"])
        let first = try await a.sync(server, token: tokenA)
        #expect(first.integer("pushed") ?? 0 > 0)
        let bootstrap = try await b.sync(server, token: tokenB)
        #expect(bootstrap.integer("bootstrapped_customers") == 2)
        #expect(try await a.exportBytes() == b.exportBytes())

        // Offline, both edit the same customers: every field kind, notes, consents, sets, records.
        for (field, value) in [
            ("legal_name", "Jana Novakova"), ("stage", "active"), ("birth_date", "1984-05-17"), ("tax_residence", "CZ"),
            ("quiet_hours", "21:00-08:00 Europe/Prague"), ("contact_budget", "3/month"), ("preferred_channels", "email,sms"),
            ("do_not_contact", "no"), ("income_band", "upper_middle"), ("created_at", "2020-02-01T09:30:00Z"),
            ("first_transaction", #"{"date":"2026-01-05","place":"branch HN01","what":"deposit","amount":{"value":"500.00","currency":"EUR"}}"#),
        ] {
            try await a.ok(["customer", "set", "c-1001", field, value])
        }
        try await a.ok(["customer", "add-to", "c-1001", "interests", "chess"])
        try await a.ok(["customer", "remove-from", "c-1001", "interests", "sailing"])
        try await a.ok(["note", "edit", firstNote, "--text", "Asked about a mortgage for a flat in Brno", "--author", "a-417"])
        try await a.ok(["note", "add", "c-1001", "--text", "Called back; ✓ prefers e-mail", "--author", "a-417", "--channel", "phone"])
        try await a.ok(["consent", "c-1001", "--purpose", "marketing", "--withdraw", "--source", "mobile_app"])
        try await a.ok([
            "life-event", "c-1001", "--type", "home_purchase", "--date", "2026-03-01", "--source", "advisor", "--confidence", "80",
        ])
        try await a.ok(["contact", "c-1001", "--channel", "sms", "--purpose", "marketing", "--topic", "savings", "--outcome", "dismissed"])
        try await a.ok(["customer", "add", "c-2001", "--legal-name", "Only On A", "--scope", "branch:HN01"])

        try await b.ok(["customer", "set", "c-1001", "legal_name", "Jana Nováková-Dvořáková"])
        try await b.ok(["customer", "set", "c-1001", "stage", "dormant"])
        try await b.ok(["customer", "set", "c-1001", "birth_date", "1984-05-18"])
        try await b.ok(["customer", "set", "c-1001", "preferred_name", "Janička"])
        // B takes sailing out and puts it back: a new add, concurrent with A's remove.
        try await b.ok(["customer", "remove-from", "c-1001", "interests", "sailing"])
        try await b.ok(["customer", "add-to", "c-1001", "interests", "sailing", "opera"])
        try await b.ok(["customer", "add-to", "c-1001", "tags", "vip"])
        try await b.ok(["note", "add", "c-1001", "--text", "Met at the branch", "--author", "a-502", "--channel", "branch"])
        try await b.ok(["note", "redact", firstNote, "--by", "dpo", "--reason", "mistake"])
        try await b.ok(["consent", "c-1001", "--purpose", "marketing", "--grant", "--source", "branch"])
        try await b.ok(["consent", "c-1001", "--purpose", "profiling", "--grant", "--source", "branch"])
        try await b.ok(["customer", "set", "c-1002", "stage", "dormant"])
        try await b.ok(["customer", "add", "c-3001", "--legal-name", "Only On B", "--scope", "branch:HN01"])

        try await a.sync(server, token: tokenA)
        try await b.sync(server, token: tokenB)
        let last = try await a.sync(server, token: tokenA)
        #expect(last.integer("pending") == 0)

        let exportA = try await a.exportBytes()
        let exportB = try await b.exportBytes()
        #expect(exportA == exportB, "exports differ:\nA: \(String(decoding: exportA, as: UTF8.self))\nB: \(String(decoding: exportB, as: UTF8.self))")
        #expect(try await server.exportState() == exportA, "the server's state differs from the devices'")
        #expect(try await a.outboxCount() == 0)
        #expect(try await b.outboxCount() == 0)

        // What the merge rules promise, seen through the CLI.
        let shown = try JSONValue(parsing: try await a.ok(["show", "c-1001", "--json"]).stdout)
        #expect(shown["sets"]?["interests"] == ["chess", "opera", "sailing"], "a concurrent add wins over the remove")
        #expect(shown["note_count"] == 3, "every note is kept")
        let marketing = shown["consents"]?.arrayValue?.first { $0["purpose"] == "marketing" }
        #expect(marketing?["status"] == "withdrawn", "a concurrent grant and withdrawal: withdrawal wins")
        let customers = try JSONValue(parsing: exportA)["customers"]?.arrayValue?.compactMap { $0["id"]?.stringValue }
        #expect(customers == ["c-1001", "c-1002", "c-2001", "c-3001"])

        // Guarded fields edited on both sides are conflicts, listed the same on both devices.
        let conflictsA = try await a.ok(["conflicts", "--json"]).stdout
        let conflictsB = try await b.ok(["conflicts", "--json"]).stdout
        #expect(conflictsA == conflictsB)
        let fields = conflictsA.split(separator: "\n").compactMap { try? JSONValue(parsing: String($0))["field"]?.stringValue }
        #expect(fields == ["birth_date", "legal_name"])
        #expect(last.integer("conflicts") == 2)
        let human = try await a.ok(["conflicts", "c-1001"]).stdout
        #expect(human.contains("legal_name") && human.contains("Jana Nováková-Dvořáková") && human.contains("Jana Novakova"))

        // A person resolves one: it syncs like any change.
        try await b.ok(["customer", "set", "c-1001", "legal_name", "Jana Nováková-Dvořáková"])
        try await b.sync(server, token: tokenB)
        let resolved = try await a.sync(server, token: tokenA)
        #expect(resolved.integer("conflicts") == 1)
        #expect(try await a.exportBytes() == b.exportBytes())
        try await server.stop()
    }

    @Test("SIGKILL of the server in the middle of a large push: after a restart, nothing is lost or duplicated", arguments: ServerBackend.all)
    func serverKilledMidPush(backend: ServerBackend) async throws {
        let server = try await SyncServerProcess.start(backend)
        defer { server.killNow() }
        let tokenA = try await server.createToken(name: "laptop-a")
        let tokenB = try await server.createToken(name: "laptop-b")
        let folder = try ScratchFolder()
        let (a, replicaA) = try await DeviceCLI.create(in: folder, named: "a.oxpecker")
        let (b, _) = try await DeviceCLI.create(in: folder, named: "b.oxpecker")

        // A large outbox: 1000 customers, 6 changes each.
        let lines = (0..<1000).map { index in
            JSONValue.object([
                "id": .string(String(format: "c-%05d", index)),
                "fields": ["legal_name": .string("Customer \(index)"), "stage": "active", "preferred_name": .string("C\(index)")],
                "sets": ["interests": ["sailing"], "scopes": ["branch:HN01"]],
                "notes": [["text": .string("Note \(index)"), "author": "a-417", "channel": "branch"]],
            ]).canonicalText
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: folder.path("customers.ndjson"), atomically: true, encoding: .utf8)
        try await a.ok(["import", "customers.ndjson", "--durability", "normal"])
        let total = try await a.outboxCount()
        #expect(total >= 5000)

        // Sync with a short retry budget; kill the server as soon as the first batches are in.
        let sync = try a.start(["sync", "--server", server.url, "--token", tokenA, "--retry-for", "2", "--max-attempts", "4"])
        let pushing = try await sync.waitForOutput(timeout: .seconds(120)) { _, stderr in stderr.contains("sync: pushed") }
        try #require(pushing, "no push progress: \(sync.stderrSoFar)")
        server.killNow()
        let interrupted = try await sync.wait()
        #expect(interrupted.status == 7, "the sync should fail while the server is dead: \(interrupted.stderr)")
        #expect(interrupted.stderr.contains("retrying") && interrupted.stderr.contains("error: cannot sync with"))
        let left = try await a.outboxCount()
        #expect(left > 0 && left < total, "the kill should land mid-push: \(left) of \(total) left")

        // Restart on the same data folder and port, sync again: the rest goes, the lost answer's batch comes back as duplicates.
        try await server.restart()
        let resumed = try await a.sync(server, token: tokenA)
        #expect(resumed.integer("pushed") == Int64(left))
        #expect(resumed.integer("pending") == 0)
        #expect(try await a.outboxCount() == 0)

        // The server's log holds each of A's changes exactly once.
        let logged = try await server.loggedChanges(token: tokenA).filter { $0.replica == replicaA }
        #expect(logged.count == total, "the server logged \(logged.count) of A's changes, not \(total)")
        #expect(Set(logged.map(\.number)) == Set(1...Int64(total)))

        // A second device sees exactly A's state.
        let bootstrap = try await b.sync(server, token: tokenB)
        #expect(bootstrap.integer("bootstrapped_customers") == 1000)
        #expect(try await a.exportBytes() == b.exportBytes())
        #expect(try await server.exportState() == a.exportBytes())
        try await server.stop()
    }

    @Test("a bad or missing token: a clear error, exit status 7 (2 when missing), nothing sent or changed")
    func badToken() async throws {
        let server = try await SyncServerProcess.start()
        defer { server.killNow() }
        let folder = try ScratchFolder()
        let (a, _) = try await DeviceCLI.create(in: folder, named: "a.oxpecker")
        try await a.ok(["customer", "add", "c-1001", "--legal-name", "Jana Nováková", "--scope", "branch:HN01"])
        let before = try await a.exportBytes()
        let outbox = try await a.outboxCount()

        let refused = try await a.run(["sync", "--server", server.url, "--token", "oxp_not-a-real-token"])
        #expect(refused.status == 7)
        #expect(refused.stderr.contains("error: the server refused /v1/hello (401 unauthorized)"), "\(refused.stderr)")
        #expect(refused.stderr.contains("request id"))
        #expect(!refused.stderr.contains("retrying"), "a 401 is not retried")
        #expect(refused.stdout.isEmpty)

        let fromEnvironment = try await a.run(["sync", "--server", server.url], environment: ["OXPECKER_TOKEN": "oxp_wrong"])
        #expect(fromEnvironment.status == 7 && fromEnvironment.stderr.contains("401 unauthorized"))

        let missing = try await a.run(["sync", "--server", server.url])
        #expect(missing.status == 2 && missing.stderr.contains("error: no device token"), "\(missing.stderr)")

        let badURL = try await a.run(["sync", "--server", "ftp://example", "--token", "x"])
        #expect(badURL.status == 4 && badURL.stderr.contains("invalid server URL"), "\(badURL.stderr)")

        #expect(try await a.exportBytes() == before)
        #expect(try await a.outboxCount() == outbox)
        try await server.stop()
    }

    @Test("the server is down: retries with backoff, then a clear error and exit status 7; the outbox is intact")
    func serverDown() async throws {
        let server = try await SyncServerProcess.start()
        let token = try await server.createToken(name: "laptop-a")
        let url = server.url
        try await server.stop()
        let folder = try ScratchFolder()
        let (a, _) = try await DeviceCLI.create(in: folder, named: "a.oxpecker")
        try await a.ok(["customer", "add", "c-1001", "--legal-name", "Jana Nováková", "--scope", "branch:HN01"])
        let outbox = try await a.outboxCount()

        let clock = ContinuousClock()
        let start = clock.now
        let result = try await a.run(["sync", "--server", url, "--token", token, "--retry-for", "3", "--max-attempts", "5"])
        let elapsed = clock.now - start
        #expect(result.status == 7)
        let retries = result.stderr.components(separatedBy: "warning: retrying").count - 1
        #expect(retries >= 2 && retries <= 4, "\(result.stderr)")
        #expect(result.stderr.contains("error: cannot sync with \(url): /v1/hello failed"), "\(result.stderr)")
        #expect(result.stderr.contains("connection refused"), "\(result.stderr)")
        #expect(elapsed < .seconds(20), "the retry budget bounds the wait")
        #expect(try await a.outboxCount() == outbox)

        // Once the server is back, the same store syncs.
        try await server.restart()
        defer { server.killNow() }
        let summary = try await a.sync(server, token: token)
        #expect(summary.integer("pushed") == Int64(outbox))
        try await server.stop()
    }
}
