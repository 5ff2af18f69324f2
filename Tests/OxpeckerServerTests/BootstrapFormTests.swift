import Foundation
import OxpeckerProtocol
import OxpeckerServer
import OxpeckerStore
@testable import OxpeckerSync
import Testing

/// Bootstrap by state (protocol version 3) beside the changes form of versions 1
/// and 2: the same snapshot in either form loads the same store, a version 3
/// page holds the merged state (one write per register, a removed element's
/// tag with its removal), and a device of the previous release still gets the
/// form it understands.
@Suite("Bootstrap pages by protocol version")
struct BootstrapFormTests {
    @Test("versions 1, 2 and 3 of one snapshot load identical stores; version 3 carries the merged state", arguments: ServerBackend.all)
    func formsAgree(backend: ServerBackend) async throws {
        try await LiveServer.run(backend) { server in
            let a = try server.newStore("a"), b = try server.newStore("b")
            try await a.write { writer in
                try writer.createCustomer("c-1", in: [testScope])
                for name in ["Jana", "Janička", "Jani"] { try writer.set(.preferredName, to: name, of: "c-1") }
                try writer.set(.legalName, to: "Jana Nováková", of: "c-1")
                try writer.add("golf", to: .interests, of: "c-1")
                try writer.add("opera", to: .interests, of: "c-1")
                let note = try writer.addNote(NewNote(text: "Renovating the flat", author: "a-417", channel: .branch), to: "c-1")
                try writer.reviseNote(note, text: "Renovation done", author: "a-417")
                try writer.recordConsent(.granted, for: .marketing, source: "branch", of: "c-1")
                try writer.createCustomer("c-2", in: [testScope])
            }
            try await sync(a, server, server.token)
            try await sync(b, server, server.token)
            // Concurrent edits: a conflict on the guarded name, a removal, a redaction.
            try await b.write { writer in
                try writer.set(.legalName, to: "Jana Novákova", of: "c-1")
                try writer.remove("golf", from: .interests, of: "c-1")
            }
            try await a.write { writer in
                try writer.set(.legalName, to: "Jana Nováková-Dvořák", of: "c-1")
                let secret = try writer.addNote(NewNote(text: "Mentioned a Zorvexia diagnosis", author: "a-417", channel: .phone), to: "c-2")
                try writer.redactNote(secret, by: "dpo-office")
            }
            try await sync(a, server, server.token)
            try await sync(b, server, server.token)
            try await sync(a, server, server.token)

            var exports: [String: String] = [:]
            var pages: [String: [BootstrapPage]] = [:]
            for version in ["1", "2", "3"] {
                let (bodies, decoded) = try await Self.bootstrap(server, version: version)
                pages[version] = decoded
                let store = try server.newStore("fresh-\(version)")
                for page in decoded { _ = try await store.apply(page.customers.flatMap(\.changes)) }
                exports[version] = try await export(store)
                let text = String(decoding: bodies.joined(), as: UTF8.self)
                #expect(!text.contains("Zorvexia"), "version \(version) serves a redacted note's text")
                #expect(text.contains("\"state\":") == (version == "3"), "version \(version)")
                #expect(text.contains("\"changes\":") == (version != "3"), "version \(version)")
            }
            let reference = try await export(a)
            for (version, exported) in exports { #expect(exported == reference, "version \(version) loads another state") }

            let snapshot = try #require(pages["3"]?.flatMap(\.customers).first { $0.customer == "c-1" })
            guard case .state(let state) = snapshot.content else {
                Issue.record("version 3 sent changes")
                return
            }
            #expect(state.registers.filter { $0.field == "preferred_name" }.map(\.value) == ["Jani"], "one write per register")
            #expect(state.guardedWrites.filter { $0.field == "legal_name" }.count == 3, "every write of a guarded field")
            let golf = state.setTags.filter { $0.field == "interests" && $0.element == "golf" }
            #expect(golf.count == 1 && golf[0].removed != nil, "a removed element keeps its tag and its removal")
            let changesForm = try #require(pages["1"]?.flatMap(\.customers).first { $0.customer == "c-1" })
            #expect(snapshot.entryCount < changesForm.entryCount, "the state is smaller than the changes that make it")
        }
    }

    /// Every page of a snapshot taken with protocol `version`, raw and decoded.
    static func bootstrap(_ server: LiveServer, version: String) async throws -> ([Data], [BootstrapPage]) {
        let transport = try HTTPSyncTransport(server: server.url)
        let headers = [("Oxpecker-Protocol", version), ("Authorization", "Bearer \(server.token)"), ("Content-Type", "application/json")]
        var bodies: [Data] = []
        var pages: [BootstrapPage] = []
        var page: SyncCursor?
        repeat {
            let response = try await transport.post(
                path: "/v1/bootstrap", body: WireCodec().encode(BootstrapRequest(page: page, limit: 1)), headers: headers)
            try #require(response.status == 200, "bootstrap: HTTP \(response.status)")
            bodies.append(Data(response.body))
            let decoded = try WireCodec().decode(BootstrapPage.self, from: response.body)
            pages.append(decoded)
            page = decoded.nextPage
        } while page != nil
        return (bodies, pages)
    }
}
