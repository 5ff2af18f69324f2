import Foundation
import HTTPTypes
import HummingbirdTesting
import OxpeckerProtocol
import OxpeckerServer
import OxpeckerStore
@testable import OxpeckerSync
import Testing

/// The right to erasure: the server forgets the customer's personal data, every
/// device purges it, and nothing brings it back.
@Suite("Erasure", .serialized)
struct ErasureTests {
    static let name = "Zdenka Quaxworthy"
    static let noteText = "Plans to buy the mill at Quoxbridge 4711"

    @Test("after an erasure and a sync of every device, no file of the server or of any device holds the name or the note text", arguments: ServerBackend.all)
    func noTraceLeft(backend: ServerBackend) async throws {
        try await LiveServer.run(backend) { server in
            let a = try server.newStore("a"), b = try server.newStore("b")
            try await a.write { writer in
                try writer.createCustomer("c-gone", in: [testScope])
                try writer.set(.legalName, to: Self.name, of: "c-gone")
                _ = try writer.addNote(NewNote(text: Self.noteText, author: "a-1", channel: .branch), to: "c-gone")
                try writer.createCustomer("c-kept", in: [testScope])
                try writer.set(.legalName, to: "Kept Kestrelson", of: "c-kept")
            }
            try await sync(a, server, server.token)
            try await sync(b, server, server.token)
            let note = try #require(try await b.read { try $0.notes(of: "c-gone") }.first?.id)
            try await b.write { writer in try writer.reviseNote(note, text: Self.noteText + " (confirmed)", author: "b-1") }
            try await sync(b, server, server.token)
            #expect(try await b.read { try $0.search("Quoxbridge") }.count == 1)

            let erased = try await server.storage.eraseCustomer("c-gone", by: "ops-1", at: Instant(millisecondsSince1970: WallClock.system.now()))
            #expect(erased.unconfirmed.count == 2, "both devices hold it")
            #expect(erased.removedChanges > 0)
            let again = try await server.storage.eraseCustomer("c-gone", by: "ops-2", at: Instant(millisecondsSince1970: WallClock.system.now()))
            #expect(again.erasedBy == "ops-1" && again.erasedAt == erased.erasedAt, "erasing again changes nothing")

            let purgedA = try await sync(a, server, server.token)
            #expect(purgedA.purges.map(\.customer) == ["c-gone"] && purgedA.purges[0].reason == .erased)
            #expect(try await server.storage.erasureStatus(of: "c-gone")?.unconfirmed.map(\.deviceName) == ["device"], "b has not synced yet")
            try await sync(b, server, server.token)
            #expect(try await server.storage.erasureStatus(of: "c-gone")?.unconfirmed.isEmpty == true)

            for store in [a, b] {
                #expect(try await store.read { try $0.exists("c-gone") } == false)
                #expect(try await store.read { try $0.search("Quoxbridge") }.isEmpty)
            }
            // The devices' files with their write-ahead logs, no checkpoint asked for, and SQLite's server
            // files (PostgreSQL's tables: VACUUM removes the dead rows, see the README).
            let files = try server.folder.allFiles()
            #expect(files.contains { $0.hasSuffix("a.oxpecker") })
            #expect(backend == .postgres || files.contains { $0.hasSuffix("server.oxpecker") })
            for secret in [Self.name, "Quaxworthy", "quaxworthy", "Quoxbridge", "quoxbridge", "mill at"] {
                let holding = try files.filter { try Data(contentsOf: URL(fileURLWithPath: $0)).range(of: Data(secret.utf8)) != nil }
                #expect(holding.isEmpty, "'\(secret)' is still in \(holding)")
            }
            // The check can find things: the customer that was not erased is still there.
            let kept = try files.filter { try Data(contentsOf: URL(fileURLWithPath: $0)).range(of: Data("Kestrelson".utf8)) != nil }
            #expect(!kept.isEmpty)
        }
    }

    @Test("an erasure waits for the stores that held or wrote the customer, not for another store of the same token that never had it", arguments: ServerBackend.all)
    func erasureWaitsOnlyForHolders(backend: ServerBackend) async throws {
        try await LiveServer.run(backend) { server in
            // Bootstrapped before the customer existed, with the same token, and not synced since.
            let quiet = try server.newStore("quiet")
            try await sync(quiet, server, server.token)
            let a = try server.newStore("a")
            try await a.write { writer in
                try writer.createCustomer("c-gone", in: [testScope])
                try writer.set(.legalName, to: Self.name, of: "c-gone")
            }
            try await sync(a, server, server.token)
            let erased = try await server.storage.eraseCustomer("c-gone", by: "ops-1", at: Instant(millisecondsSince1970: WallClock.system.now()))
            #expect(erased.unconfirmed.count == 1, "only the store that wrote it: \(erased.unconfirmed.map(\.subscription))")
            try await sync(a, server, server.token)
            #expect(try await server.storage.erasureStatus(of: "c-gone")?.unconfirmed.isEmpty == true)
            // The quiet store learns nothing of it, and never had it.
            let later = try await sync(quiet, server, server.token)
            let held = try await quiet.read { try $0.exists("c-gone") }
            #expect(later.purges.isEmpty && !held)
        }
    }

    @Test("a device offline during the erasure, with unpushed edits: its edits are dropped, it purges, nothing comes back", arguments: ServerBackend.all)
    func offlineDevice(backend: ServerBackend) async throws {
        try await LiveServer.run(backend) { server in
            let a = try server.newStore("a"), offline = try server.newStore("offline")
            try await a.write { writer in
                try writer.createCustomer("c-gone", in: [testScope])
                try writer.set(.legalName, to: Self.name, of: "c-gone")
            }
            try await sync(a, server, server.token)
            try await sync(offline, server, server.token)
            try await offline.write { writer in
                try writer.set(.preferredName, to: "Zed", of: "c-gone")
                _ = try writer.addNote(NewNote(text: Self.noteText, author: "o-1", channel: .phone), to: "c-gone")
            }
            _ = try await server.storage.eraseCustomer("c-gone", by: "ops-1", at: Instant(millisecondsSince1970: WallClock.system.now()))

            let summary = try await sync(offline, server, server.token)
            #expect(summary.rejections.count == 2 && summary.rejections.allSatisfy { $0.reason == .customerErased })
            #expect(summary.purges.map(\.customer) == ["c-gone"])
            #expect(try await offline.read { try ($0.exists("c-gone"), $0.outboxCount(), $0.pushRejections().count) } == (false, 0, 0))
            // The tombstone: the device cannot write the customer again, and the server takes nothing of it.
            await #expect(throws: StoreError.customerErased("c-gone")) {
                try await offline.write { writer in try writer.createCustomer("c-gone", in: [testScope]) }
            }
            let fresh = try server.newStore("fresh")
            try await sync(fresh, server, server.token)
            #expect(try await fresh.read { try $0.exists("c-gone") } == false)
            let state = try await server.storage.exportState()
            #expect(!state.contains("c-gone") && !state.contains("Zed"))
            try await sync(a, server, server.token)
            #expect(try await a.read { try $0.exists("c-gone") } == false)
        }
    }

    @Test("an erasure leaves no copy of the customer's data in the server's files, write-ahead log included, without a manual checkpoint")
    func erasureEmptiesTheWriteAheadLog() async throws {
        try await LiveServer.run { server in
            let a = try server.newStore("a")
            try await a.write { writer in
                try writer.createCustomer("c-gone", in: [testScope])
                try writer.set(.legalName, to: Self.name, of: "c-gone")
                _ = try writer.addNote(NewNote(text: Self.noteText, author: "a-1", channel: .branch), to: "c-gone")
            }
            try await sync(a, server, server.token)
            // The server's own files: its database, write-ahead log and shared memory.
            func holding(_ secret: String) throws -> [String] {
                try server.folder.allFiles().filter { ($0 as NSString).lastPathComponent.hasPrefix("server.oxpecker") }
                    .filter { try Data(contentsOf: URL(fileURLWithPath: $0)).range(of: Data(secret.utf8)) != nil }
            }
            let before = try holding("Quoxbridge")
            #expect(!before.isEmpty, "the check can find the note before the erasure")
            _ = try await server.storage.eraseCustomer("c-gone", by: "ops-1", at: Instant(millisecondsSince1970: WallClock.system.now()))
            for secret in ["Quaxworthy", "Quoxbridge"] {
                let files = try holding(secret)
                #expect(files.isEmpty, "'\(secret)' is still in \(files)")
            }
        }
    }

    @Test("erasing the customer at the top of the log does not move the log's top down: a device at the top still gets the next change", arguments: ServerBackend.all)
    func erasureAtTheTopKeepsPositionsGrowing(backend: ServerBackend) async throws {
        try await LiveServer.run(backend) { server in
            let a = try server.newStore("a"), b = try server.newStore("b")
            try await a.write { writer in
                try writer.createCustomer("c-kept", in: [testScope])
                // Created last: its changes are the top of the log.
                try writer.createCustomer("c-gone", in: [testScope])
                try writer.set(.legalName, to: Self.name, of: "c-gone")
            }
            try await sync(a, server, server.token)
            try await sync(b, server, server.token)  // b's cursor is now at the top of the log
            _ = try await server.storage.eraseCustomer("c-gone", by: "ops-1", at: Instant(millisecondsSince1970: WallClock.system.now()))
            try await a.write { writer in try writer.set(.preferredName, to: "Kit", of: "c-kept") }
            try await sync(a, server, server.token)
            try await sync(b, server, server.token)
            #expect(try await b.read { try $0.profile(of: "c-kept")[.preferredName] } == "Kit", "b skipped a change stored after the erasure")
            #expect(try await b.read { try $0.exists("c-gone") } == false)
        }
    }

    @Test("a push for an erased customer is dropped with customer_erased, also one that would create it again; an unknown customer cannot be erased", arguments: ServerBackend.all)
    func pushAfterErasure(backend: ServerBackend) async throws {
        let server = try await ServerHarness.make(backend)
        defer { server.remove() }
        try await server.test { client in
            _ = try await client.post("/v1/push", pushBody([try scopeChange(1), try fieldChange(2, value: "Jana")]), token: server.token)
            _ = try await server.storage.eraseCustomer("c-1", by: "admin", at: Instant(millisecondsSince1970: 1_764_000_000_000))
            let logged = try await server.storage.logCount()
            let late = try await client.post("/v1/push", pushBody([try fieldChange(3, value: "Jana again")]), token: server.token)
            #expect(late.json["results"]?.arrayValue?.first?["reason"] == "customer_erased")
            let recreate = try await client.post("/v1/push", pushBody([try scopeChange(1, replica: "r-2")], replica: "r-2"), token: server.token)
            #expect(recreate.json["results"]?.arrayValue?.first?["reason"] == "customer_erased")
            #expect(try await server.storage.logCount() == logged)
            #expect(!(try await server.storage.exportState()).contains("Jana"))
        }
        await #expect(throws: ErasureError.unknownCustomer("c-404")) {
            try await server.storage.eraseCustomer("c-404", by: "admin", at: Instant(millisecondsSince1970: 1_764_000_000_000))
        }
    }

    @Test(
        "a device whose sync stopped after it pushed a new customer, before the pull that follows, gets the purge of its erasure at its next pull, once; a device that never had it learns nothing",
        arguments: ServerBackend.all)
    func erasureBeforeThePullAfterAPush(backend: ServerBackend) async throws {
        let server = try await ServerHarness.make(backend)
        defer { server.remove() }
        let now = Instant(millisecondsSince1970: 1_764_000_000_000)
        // Another device of the same scope, which pulled before the customer existed and not since.
        let other = try await server.storage.createToken(name: "laptop-2", scopes: [testScope], expiresAt: nil, now: now).secret
        try await server.test { client in
            func pull(_ cursor: SyncCursor?, _ token: String) async throws -> PullResponse {
                let after = cursor.map { #""after":"\#($0.rawValue)","# } ?? ""
                return try WireCodec().decode(PullResponse.self, from: try await client.post("/v1/pull", #"{\#(after)"limit":100}"#, token: token).text)
            }
            let first = try await pull(nil, server.token)
            let otherFirst = try await pull(nil, other)
            // The device creates c-1 and pushes it; its sync stops before it pulls again.
            let pushed = try await client.post("/v1/push", pushBody([try scopeChange(1), try fieldChange(2, value: "Jana")]), token: server.token)
            #expect(pushed.json["results"]?.arrayValue?.allSatisfy { $0["outcome"] == "accepted" } == true)
            let erased = try await server.storage.eraseCustomer("c-1", by: "dpo", at: now)
            #expect(erased.unconfirmed.map(\.deviceName) == ["laptop-1"], "the device that wrote it may hold it; the other never had it")

            let purging = try await pull(first.nextCursor, server.token)
            #expect(purging.purges.map(\.customer) == ["c-1"] && purging.purges.first?.reason == .erased)
            #expect(try await server.storage.erasureStatus(of: "c-1")?.unconfirmed.map(\.deviceName) == ["laptop-1"], "not confirmed yet")
            let next = try await pull(purging.nextCursor, server.token)
            #expect(next.purges.isEmpty && next.items.isEmpty, "one purge notice, not two")
            #expect(try await server.storage.erasureStatus(of: "c-1")?.unconfirmed.isEmpty == true, "confirmed by the next pull")

            let otherNext = try await pull(otherFirst.nextCursor, other)
            #expect(otherNext.purges.isEmpty && otherNext.items.isEmpty, "a device that never had the customer learns nothing of it")
        }
    }

    @Test(
        "a store's new bootstrap replaces its earlier subscription: the erasure waits only for the live one, and the old one's cursors are refused",
        arguments: ServerBackend.all)
    func rebootstrapReplacesTheOldSubscription(backend: ServerBackend) async throws {
        let server = try await ServerHarness.make(backend)
        defer { server.remove() }
        let now = Instant(millisecondsSince1970: 1_764_000_000_000)
        try await server.test { client in
            let codec = WireCodec()
            func bootstrap(_ replica: String?) async throws -> BootstrapPage {
                let body = replica.map { #"{"limit":100,"replica":"\#($0)"}"# } ?? #"{"limit":100}"#
                return try codec.decode(BootstrapPage.self, from: try await client.post("/v1/bootstrap", body, token: server.token).text)
            }
            func pull(_ cursor: SyncCursor) async throws -> TestResponse {
                try await client.post("/v1/pull", #"{"after":"\#(cursor.rawValue)","limit":100,"replica":"r-1"}"#, token: server.token)
            }
            let abandoned = try await bootstrap("r-1")  // the store cleared itself and started again
            let other = try await bootstrap("r-2")  // another store of the same token
            let live = try await bootstrap("r-1")
            let pushed = try await client.post("/v1/push", pushBody([try scopeChange(1), try fieldChange(2, value: "Jana")]), token: server.token)
            #expect(pushed.json["results"]?.arrayValue?.allSatisfy { $0["outcome"] == "accepted" } == true)
            let first = try await pull(live.resumeCursor)
            #expect(first.status == .ok)

            let erased = try await server.storage.eraseCustomer("c-1", by: "dpo", at: now)
            #expect(erased.unconfirmed.count == 1, "the live store of r-1, which wrote c-1: not the replaced one, nor r-2 (same token, it never had c-1)")
            let stale = try await pull(abandoned.resumeCursor)
            #expect(stale.status == .gone && stale.json["code"] == "cursor_expired", "the replaced subscription is gone")
            let otherPull = try await client.post("/v1/pull", #"{"after":"\#(other.resumeCursor.rawValue)","limit":100,"replica":"r-2"}"#, token: server.token)
            #expect(otherPull.status == .ok, "another store's subscription stays")

            var cursor = try codec.decode(PullResponse.self, from: first.text).nextCursor
            for _ in 0..<3 { cursor = try codec.decode(PullResponse.self, from: try await pull(cursor).text).nextCursor }
            let status = try await server.storage.erasureStatus(of: "c-1")
            #expect(status?.unconfirmed.isEmpty == true, "the store of r-1 confirmed the purge; r-2 was never waited for")
        }
    }
}

extension ScratchFolder {
    /// Every regular file under the folder, recursively.
    func allFiles() throws -> [String] {
        let root = url.path
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [] }
        return enumerator.compactMap { $0 as? String }.map { (root as NSString).appendingPathComponent($0) }.filter { file in
            var directory: ObjCBool = false
            return FileManager.default.fileExists(atPath: file, isDirectory: &directory) && !directory.boolValue
        }
    }
}

/// The erasure and audit endpoints for administrators.
@Suite("Erasure and audit over HTTP")
struct AdminErasureTests {
    @Test("an admin token erases over HTTP and reads the status and the audit trail; a device token cannot; bad input gets a code", arguments: ServerBackend.all)
    func adminEndpoints(backend: ServerBackend) async throws {
        let server = try await ServerHarness.make(backend)
        defer { server.remove() }
        let now = Instant(millisecondsSince1970: 1_764_000_000_000)
        let admin = try await server.storage.createToken(.admin, name: "dpo", scopes: [], expiresAt: nil, now: now)
        try await server.test { client in
            _ = try await client.post("/v1/push", pushBody([try scopeChange(1), try fieldChange(2, value: "Jana")]), token: server.token)
            func call(_ method: HTTPRequest.Method, _ uri: String, _ token: String) async throws -> TestResponse {
                try await client.execute(uri: uri, method: method, headers: [.authorization: "Bearer \(token)"])
            }
            let byDevice = try await call(.post, "/v1/admin/customers/c-1/erase", server.token)
            #expect(byDevice.status == .forbidden)
            #expect(try await server.storage.erasureStatus(of: "c-1") == nil, "a device cannot erase")

            let erased = try await call(.post, "/v1/admin/customers/c-1/erase", admin.secret)
            #expect(erased.status == .ok)
            #expect(erased.json["customer"] == "c-1" && erased.json["erased_by"] == .string(admin.id))
            #expect(erased.json["removed_changes"] == 2)
            let status = try await call(.get, "/v1/admin/customers/c-1/erasure", admin.secret)
            #expect(status.json["erased_at"] == erased.json["erased_at"])
            #expect(try await server.storage.exportState().contains("Jana") == false)

            let trail = try await call(.get, "/v1/admin/audit?customer=c-1", admin.secret)
            let events = trail.json["events"]?.arrayValue ?? []
            // Reading the erasure's status and the trail itself are in the trail, under the admin token's id.
            #expect(events.compactMap { $0["action"]?.stringValue } == ["change", "change", "erase", "erasure_status_read", "audit_read"])
            #expect(events.suffix(2).map { $0["actor"] } == [.string(admin.id), .string(admin.id)])
            #expect(!trail.text.contains("Jana"))

            #expect(try await call(.get, "/v1/admin/tokens", admin.secret).status == .ok)
            let byAdmin = try await call(.get, "/v1/admin/audit?device=\(admin.id)", admin.secret).json["events"]?.arrayValue ?? []
            #expect(
                byAdmin.compactMap { $0["action"]?.stringValue }
                    == ["token_create", "erase", "erasure_status_read", "audit_read", "token_list", "audit_read"],
                "everything the administrator did and read, in order")

            for (uri, method, status, code) in [
                ("/v1/admin/customers/c-404/erase", HTTPRequest.Method.post, 404, "not_found"),
                ("/v1/admin/customers/c-2/erasure", .get, 404, "not_found"),
                ("/v1/admin/customers/bad%20id/erase", .post, 400, "invalid_identifier"),
                ("/v1/admin/audit", .get, 400, "invalid_value"),
                ("/v1/admin/audit?customer=c-1&device=tok-1", .get, 400, "invalid_value"),
                ("/v1/admin/audit?customer=c-1&limit=0", .get, 400, "invalid_value"),
                ("/v1/admin/audit?device=", .get, 400, "invalid_value"),
                ("/v1/admin/audit?device=\(String(repeating: "x", count: 257))", .get, 400, "invalid_value"),
            ] {
                let refused = try await call(method, uri, admin.secret)
                #expect(refused.status.code == status && refused.json["code"] == .string(code), "\(uri): \(refused.text)")
            }
        }
    }
}
