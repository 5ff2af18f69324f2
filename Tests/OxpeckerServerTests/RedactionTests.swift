import Foundation
import GRDB
import OxpeckerProtocol
import OxpeckerServer
import OxpeckerStore
@testable import OxpeckerSync
import Testing

/// A redaction removes a note's text everywhere it is stored or served: every
/// store's file and write-ahead log, the server's log and files, and every
/// bootstrap or pull answer afterwards, whoever asks.
@Suite("Redaction", .serialized)
struct RedactionTests {
    /// Words of the redacted texts (the note, its revision, a concurrent revision made elsewhere), as written and as the search index folds them.
    static let secrets = ["Zorvexia", "zorvexia", "Quillfeather", "quillfeather", "Wobblestone", "wobblestone"]

    @Test("after a redaction and the next sync of every device, no file and no bootstrap or pull answer holds the note's text, a concurrent revision's included", arguments: ServerBackend.all)
    func redactedTextLeavesNoTrace(backend: ServerBackend) async throws {
        try await LiveServer.run(backend) { server in
            let a = try server.newStore("a"), b = try server.newStore("b")
            let note = try await a.write { writer in
                try writer.createCustomer("c-1", in: [testScope])
                try writer.set(.legalName, to: "Jana Nováková", of: "c-1")
                let note = try writer.addNote(NewNote(text: "Diagnosed with Zorvexia, tell no one", author: "a-417", channel: .branch), to: "c-1")
                try writer.reviseNote(note, text: "Zorvexia confirmed by Dr Quillfeather", author: "a-417")
                _ = try writer.addNote(NewNote(text: "Renovating the flat in Brindlemoor", author: "a-417", channel: .branch), to: "c-1")
                return note
            }
            try await sync(a, server, server.token)
            try await sync(b, server, server.token)
            #expect(try await b.read { try $0.search("Quillfeather") }.count == 1)
            // b revises the note offline while a redacts it: b's revision reaches the server after the redaction.
            try await b.write { writer in try writer.reviseNote(note, text: "Zorvexia follow-up with Wobblestone", author: "b-1") }
            #expect(try await a.write { writer in try writer.redactNote(note, by: "dpo-office", reason: "health data") })
            try await sync(a, server, server.token)
            try await sync(b, server, server.token)
            try await sync(a, server, server.token)

            // Another device token of the same scope, asking the server directly.
            let other = try await server.storage.createToken(
                name: "other", scopes: [testScope], expiresAt: nil, now: Instant(millisecondsSince1970: WallClock.system.now())
            ).secret
            let answers = try await rawBootstrapAndPull(server, token: other)
            let fresh = try server.newStore("fresh")
            try await sync(fresh, server, other)

            for store in [a, b, fresh] {
                let notes = try await store.read { try $0.notes(of: "c-1") }
                #expect(notes.count == 2, "the redacted note stays, who wrote it and when")
                #expect(notes.first { $0.id == note }?.redaction?.by == "dpo-office")
                #expect(notes.first { $0.id == note }?.text == nil)
                #expect(try await store.read { try $0.search("Zorvexia") }.isEmpty)
            }
            #expect(try await export(a) == export(b))
            #expect(try await export(a) == export(fresh))

            for (name, body) in answers {
                for secret in Self.secrets {
                    #expect(body.range(of: Data(secret.utf8)) == nil, "'\(secret)' is in the \(name) answer")
                }
            }
            #expect(answers.contains { $0.1.range(of: Data("Brindlemoor".utf8)) != nil }, "the answers carry the note that was not redacted")

            // Every file: the stores with their -wal and -shm, and the SQLite backend's data folder; no checkpoint asked for.
            let files = try server.folder.allFiles()
            #expect(files.contains { $0.hasSuffix("b.oxpecker") })
            #expect(backend == .postgres || files.contains { $0.hasSuffix("server.oxpecker") })
            for secret in Self.secrets {
                let holding = try files.filter { try Data(contentsOf: URL(fileURLWithPath: $0)).range(of: Data(secret.utf8)) != nil }
                #expect(holding.isEmpty, "'\(secret)' is still in \(holding)")
            }
            let kept = try files.filter { try Data(contentsOf: URL(fileURLWithPath: $0)).range(of: Data("Brindlemoor".utf8)) != nil }
            #expect(!kept.isEmpty, "the check can find the text that was not redacted")
        }
    }

    @Test("a note written and redacted before its first sync never leaves the device with its text; a retry of a note the server has redacted is a duplicate", arguments: ServerBackend.all)
    func redactedBeforeSync(backend: ServerBackend) async throws {
        try await LiveServer.run(backend) { server in
            let a = try server.newStore("a")
            try await a.write { writer in
                try writer.createCustomer("c-1", in: [testScope])
                let note = try writer.addNote(NewNote(text: "Zorvexia, written to the wrong customer", author: "a-417", channel: .branch), to: "c-1")
                try writer.redactNote(note, by: "a-417")
            }
            let outbox = try await a.read { try $0.outbox() }
            #expect(outbox.allSatisfy { change in !change.value.canonicalText.contains("Zorvexia") })
            try await sync(a, server, server.token)
            let sent = try await server.loggedChanges(token: server.token).compactMap(\.change)
            #expect(sent.count == outbox.count)
            #expect(sent.allSatisfy { !$0.value.canonicalText.contains("Zorvexia") })

            // A store that pushed a note, lost the answer, and pushes it again with its text after
            // another device's redaction reached the server: a duplicate, not a replica conflict.
            let b = try server.newStore("b")
            try await sync(b, server, server.token)
            let note = try await b.write { writer in
                try writer.addNote(NewNote(text: "Quillfeather said too much", author: "b-1", channel: .phone), to: "c-1")
            }
            let pushed = try #require(try await b.read { try $0.outbox() }.first { $0.record == note })
            try await sync(b, server, server.token)
            try await sync(a, server, server.token)
            try await a.write { writer in try writer.redactNote(note, by: "dpo-office") }
            try await sync(a, server, server.token)
            let logged = try await server.loggedChanges(token: server.token).compactMap(\.change)
            #expect(logged.first { $0.record == note && $0.entity == .note }?.value["text"] == .null, "the log keeps the note without its text")
            let transport = try HTTPSyncTransport(server: server.url)
            let response = try await transport.post(
                path: "/v1/push", body: WireCodec().encode(PushRequest(replica: b.replica, changes: [pushed])),
                headers: [("Oxpecker-Protocol", "1"), ("Authorization", "Bearer \(server.token)"), ("Content-Type", "application/json")])
            try #require(response.status == 200, "push: HTTP \(response.status)")
            let results = try WireCodec().decode(PushResponse.self, from: response.body).results
            #expect(results.map(\.outcome) == [.duplicate])
            #expect(try await server.loggedChanges(token: server.token).compactMap(\.change).first { $0.record == note }?.value["text"] == .null)
        }
    }

    @Test("an upgrade removes the text of notes redacted before the log kept them without it", arguments: ServerBackend.all)
    func upgradeBlanksEarlierRedactions(backend: ServerBackend) async throws {
        let server = try await ServerHarness.make(backend)
        defer { server.remove() }
        let stamp = { (number: Int64) in try HybridTimestamp(wallMillis: 1_764_000_000_000 + number, counter: 0, replica: "r-1") }
        let note = Change(
            replica: "r-1", number: 2, hlc: try stamp(2), customer: "c-1", entity: .note, field: nil, record: "n-1", kind: .appendOnlyLog,
            value: ["author": "a-1", "channel": "branch", "at": "2026-11-24T10:00:00.000Z", "text": "Zorvexia, told in confidence"])
        let kept = Change(
            replica: "r-1", number: 3, hlc: try stamp(3), customer: "c-1", entity: .note, field: nil, record: "n-2", kind: .appendOnlyLog,
            value: ["author": "a-1", "channel": "branch", "at": "2026-11-24T10:00:00.000Z", "text": "Renovating in Brindlemoor"])
        let redaction = Change(
            replica: "r-1", number: 4, hlc: try stamp(4), customer: "c-1", entity: .noteRedaction, field: nil, record: "n-1",
            kind: .appendOnlyLog, value: ["note": "n-1", "by": "dpo-office", "at": "2026-11-24T11:00:00.000Z"])
        try await server.test { client in
            let pushed = try await client.post("/v1/push", pushBody([try scopeChange(1), note, kept, redaction]), token: server.token)
            #expect(pushed.json["results"]?.arrayValue?.map { $0["outcome"] } == ["accepted", "accepted", "accepted", "accepted"])
        }
        // The log as a release before this one left it: the redacted note's text still there, the migration not run.
        let original = WireCodec().encodeText(note).replacingOccurrences(of: "'", with: "''")
        switch backend {
        case .sqlite:
            let queue = try DatabaseQueue(path: server.folder.appendingPathComponent("server.oxpecker").path)
            try await queue.write { db in
                try db.execute(sql: "UPDATE change_log SET body = ? WHERE replica = 'r-1' AND number = 2", arguments: [WireCodec().encodeText(note)])
                try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'server-v11-redacted-text'")
            }
            try queue.close()
        case .postgres:
            try await server.database.execute("UPDATE change_log SET body = '\(original)' WHERE replica = 'r-1' AND number = 2")
            try await server.database.execute("DELETE FROM oxpecker_migration WHERE name = 'server-v11-redacted-text'")
        }
        #expect(try await server.storage.loggedNote("n-1")?.value["text"] == "Zorvexia, told in confidence", "the check can see the old form")

        let upgraded = try await server.database.openStorage()
        defer { server.database.removeLater(closing: [upgraded]) }
        #expect(try await upgraded.loggedNote("n-1")?.value["text"] == .null)
        #expect(try await upgraded.loggedNote("n-2")?.value["text"] == "Renovating in Brindlemoor")
        if backend == .sqlite {
            let files = try FileManager.default.contentsOfDirectory(atPath: server.folder.path).map { server.folder.appendingPathComponent($0).path }
            let holding = try files.filter { try Data(contentsOf: URL(fileURLWithPath: $0)).range(of: Data("Zorvexia".utf8)) != nil }
            #expect(holding.isEmpty, "still in \(holding)")
        }
    }

    /// Every answer of a bootstrap from the start (as changes, version 1, and as state,
    /// version 3) and a pull from its resume cursor, and of a pull from the log's start,
    /// raw, as any client would get them.
    private func rawBootstrapAndPull(_ server: LiveServer, token: String) async throws -> [(String, Data)] {
        let transport = try HTTPSyncTransport(server: server.url)
        func headers(_ version: String) -> [(String, String)] {
            [("Oxpecker-Protocol", version), ("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")]
        }
        var answers: [(String, Data)] = []
        var resume: SyncCursor?
        for version in ["1", "3"] {
            var page: SyncCursor?
            repeat {
                let response = try await transport.post(
                    path: "/v1/bootstrap", body: WireCodec().encode(BootstrapRequest(page: page, limit: 1)), headers: headers(version))
                try #require(response.status == 200, "bootstrap: HTTP \(response.status)")
                answers.append(("bootstrap (version \(version))", Data(response.body)))
                let decoded = try WireCodec().decode(BootstrapPage.self, from: response.body)
                page = decoded.nextPage
                resume = decoded.resumeCursor
            } while page != nil
        }
        let headers = headers("3")
        for start in [resume, nil] {
            var cursor = start
            while true {
                let response = try await transport.post(
                    path: "/v1/pull", body: WireCodec().encode(PullRequest(after: cursor, limit: 2)), headers: headers)
                try #require(response.status == 200, "pull: HTTP \(response.status)")
                answers.append(("pull", Data(response.body)))
                let decoded = try WireCodec().decode(PullResponse.self, from: response.body)
                cursor = decoded.nextCursor
                if !decoded.hasMore { break }
            }
        }
        return answers
    }
}

extension ServerStorage {
    /// The logged change of note `id`, as a bootstrap of the default test scope serves it.
    func loggedNote(_ id: RecordID) async throws -> Change? {
        let device = DeviceIdentity(tokenID: "test", name: "test", scopes: [testScope])
        let page = try await snapshot(page: nil, limit: 100, for: device, replica: nil, at: Instant(millisecondsSince1970: 1_764_000_100_000))
        return try page.customers.flatMap(\.changes).map { try WireCodec().decode(Change.self, from: $0) }
            .first { $0.entity == .note && $0.record == id }
    }
}
