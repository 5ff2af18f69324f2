import Foundation
import OxpeckerProtocol
import Testing

/// The administrator's commands against a running server: erase a customer,
/// follow the devices' purges, read the audit trail.
@Suite("End to end: erasure and audit with the real oxpecker-server", .serialized)
struct EndToEndErasureTests {
    @Test("a customer added without --scope: the sync refuses it out_of_scope, and `outbox --set-aside` still shows the advisor's note", arguments: ServerBackend.all)
    func unscopedCustomerIsSetAside(backend: ServerBackend) async throws {
        let server = try await SyncServerProcess.start(backend)
        defer { server.killNow() }
        let token = try await server.createToken(name: "laptop-a")
        let folder = try ScratchFolder()
        let (a, _) = try await DeviceCLI.create(in: folder, named: "a.oxpecker")
        try await a.ok(["customer", "add", "c-2002", "--legal-name", "Ivo Forgotten"])
        try await a.ok(["note", "add", "c-2002", "--text", "Wants a call about the mortgage", "--author", "a-417", "--channel", "branch"])
        let synced = try await a.sync(server, token: token)
        #expect(synced["rejections"]?.arrayValue?.allSatisfy { $0["reason"] == "out_of_scope" } == true)
        #expect(try await a.outboxCount() == 0)
        let kept = try await a.ok(["outbox", "--set-aside"]).stdout
        #expect(kept.contains("c-2002") && kept.contains("refused: out_of_scope"), "\(kept)")
        let json = try await a.ok(["outbox", "--set-aside", "--json"]).stdout
        #expect(json.contains("Wants a call about the mortgage"), "the note's text is kept for a person")
        let count = try await a.ok(["outbox", "--set-aside", "--count"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(Int(count) == synced["rejections"]?.arrayValue?.count)
        try await server.stop()
    }

    @Test("customer erase while the server runs; erase-status until the device has purged; audit by customer and by device; bad input refused", arguments: ServerBackend.all)
    func eraseAndAudit(backend: ServerBackend) async throws {
        let server = try await SyncServerProcess.start(backend)
        defer { server.killNow() }
        let token = try await server.createToken(name: "laptop-a")
        let folder = try ScratchFolder()
        let (a, _) = try await DeviceCLI.create(in: folder, named: "a.oxpecker")
        try await a.ok(["customer", "add", "c-1001", "--legal-name", "Jana Nováková", "--scope", "branch:HN01"])
        try await a.ok(["note", "add", "c-1001", "--text", "Wants a mortgage", "--author", "a-417", "--channel", "branch"])
        try await a.sync(server, token: token)

        let erased = try await server.admin(["customer", "erase", "c-1001", "--by", "dpo-office"])
        #expect(erased.status == 0 && erased.stdout.contains("erased c-1001"), "\(erased.stderr)")
        #expect(erased.stdout.contains("1 device still to confirm the purge"))
        let waiting = try await server.admin(["customer", "erase-status", "c-1001"])
        #expect(waiting.status == 4 && waiting.stdout.contains("laptop-a"))

        let synced = try await a.sync(server, token: token)
        #expect(synced["purges"]?.arrayValue?.first?["reason"] == "erased")
        #expect(try await a.run(["show", "c-1001"]).status != 0)
        let done = try await server.admin(["customer", "erase-status", "c-1001"])
        #expect(done.status == 0 && done.stdout.contains("every device has confirmed the purge"), "\(done.stdout)")

        let byCustomer = try await server.admin(["audit", "--customer", "c-1001", "--json", "--by", "dpo-office"])
        let events = byCustomer.stdout.split(separator: "\n").compactMap { try? JSONValue(parsing: String($0)) }
        // The erasure, then every reading of its status and of this trail, each with who read it.
        #expect(events.compactMap { $0["action"]?.stringValue }.suffix(4) == ["erase", "erasure_status_read", "erasure_status_read", "audit_read"])
        #expect(events.suffix(3).map { $0["actor"] } == ["admin", "admin", "dpo-office"])
        #expect(events.filter { $0["action"] == "change" }.count >= 3)
        #expect(!byCustomer.stdout.contains("Nováková") && !byCustomer.stdout.contains("mortgage"), "references only")
        let tokenID = try #require(events.first?["actor"]?.stringValue)
        let byDevice = try await server.admin(["audit", "--device", tokenID])
        #expect(byDevice.status == 0 && byDevice.stdout.contains("token_create") && byDevice.stdout.contains("change"))

        let unknown = try await server.admin(["customer", "erase", "c-404"])
        #expect(unknown.status == 3 && unknown.stderr.contains("no customer 'c-404'"))
        let notErased = try await server.admin(["customer", "erase-status", "c-2002"])
        #expect(notErased.status == 3)
        let both = try await server.admin(["audit", "--customer", "c-1", "--device", "tok-1"])
        #expect(both.status != 0 && both.stderr.contains("exactly one"))
        try await server.stop()
    }
}
