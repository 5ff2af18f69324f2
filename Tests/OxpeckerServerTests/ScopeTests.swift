import Foundation
import HummingbirdTesting
import OxpeckerProtocol
import OxpeckerServer
import OxpeckerStore
@testable import OxpeckerSync
import Synchronization
import Testing

/// Partial replication: a device sees, and writes, only the customers in its
/// token's scopes; customers that leave them are purged from it, customers that
/// enter them arrive whole.
@Suite("Scopes", .serialized)
struct ScopeTests {
    @Test("a device of branch:A can neither read nor write a customer only in branch:B: pull, bootstrap, push", arguments: ServerBackend.all)
    func isolation(backend: ServerBackend) async throws {
        let server = try await ServerHarness.make(backend)
        defer { server.remove() }
        let now = Instant(millisecondsSince1970: 1_764_000_000_000)
        let tokenA = try await server.storage.createToken(name: "laptop-a", scopes: ["branch:A"], expiresAt: nil, now: now).secret
        let tokenB = try await server.storage.createToken(name: "laptop-b", scopes: ["branch:B"], expiresAt: nil, now: now).secret
        try await server.test { client in
            let fromB = try [
                scopeChange(1, replica: "r-b", customer: "c-b", scope: "branch:B"),
                fieldChange(2, replica: "r-b", customer: "c-b", value: "Secret B"),
            ]
            let pushedB = try await client.post("/v1/push", pushBody(fromB, replica: "r-b"), token: tokenB)
            #expect(pushedB.json["results"]?.arrayValue?.map { $0["outcome"] } == ["accepted", "accepted"])
            let fromA = try [
                scopeChange(1, replica: "r-a", customer: "c-a", scope: "branch:A"),
                fieldChange(2, replica: "r-a", customer: "c-a", value: "Open A"),
            ]
            _ = try await client.post("/v1/push", pushBody(fromA, replica: "r-a"), token: tokenA)
            let logged = try await server.storage.logCount()
            let state = try await server.storage.exportState()

            // Pull from the start, and bootstrap: only c-a.
            let pulled = try WireCodec().decode(PullResponse.self, from: try await client.post("/v1/pull", "{\"limit\":100}", token: tokenA).text)
            #expect(Set(pulled.changes.map(\.customer)) == ["c-a"])
            let snapshot = try WireCodec().decode(BootstrapPage.self, from: try await client.post("/v1/bootstrap", "{\"limit\":100}", token: tokenA).text)
            #expect(snapshot.customers.map(\.customer) == ["c-a"])
            let later = try WireCodec().decode(
                PullResponse.self, from: try await client.post("/v1/pull", "{\"after\":\"\(snapshot.resumeCursor.rawValue)\",\"limit\":100}", token: tokenA).text)
            #expect(later.changes.allSatisfy { $0.customer == "c-a" } && later.purges.isEmpty)

            // Writes: to B's customer, to a new customer put in branch:B, to a new customer without a scope first.
            let attacks = try [
                fieldChange(3, replica: "r-a", customer: "c-b", value: "Hacked"),
                scopeChange(4, replica: "r-a", customer: "c-b", scope: "branch:A"),
                scopeChange(5, replica: "r-a", customer: "c-new", scope: "branch:B"),
                fieldChange(6, replica: "r-a", customer: "c-other", value: "No scope"),
            ]
            let refused = try await client.post("/v1/push", pushBody(attacks, replica: "r-a"), token: tokenA)
            let results = refused.json["results"]?.arrayValue ?? []
            #expect(results.map { $0["reason"] ?? .null } == ["out_of_scope", "out_of_scope", "out_of_scope", "out_of_scope"])
            #expect(refused.json["acknowledged_through"] == 6, "refused for good")
            #expect(try await server.storage.logCount() == logged, "nothing of them stored")
            #expect(try await server.storage.exportState() == state)

            // A new customer in A's own scope is fine, and a device sees nothing with a token of no scope.
            let created = try await client.post(
                "/v1/push", pushBody([try scopeChange(7, replica: "r-a", customer: "c-a2", scope: "branch:A")], replica: "r-a"), token: tokenA)
            #expect(created.json["results"]?.arrayValue?.first?["outcome"] == "accepted")
            let none = try await server.storage.createToken(name: "nobody", scopes: [], expiresAt: nil, now: now).secret
            let nothing = try WireCodec().decode(PullResponse.self, from: try await client.post("/v1/pull", "{\"limit\":100}", token: none).text)
            #expect(nothing.changes.isEmpty)
        }
    }

    @Test("a bootstrap in small pages brings every customer of several scopes once, in id order, and no other", arguments: ServerBackend.all)
    func bootstrapPagesOverScopes(backend: ServerBackend) async throws {
        let server = try await ServerHarness.make(backend)
        defer { server.remove() }
        let now = Instant(millisecondsSince1970: 1_764_000_000_000)
        let writer = try await server.storage.createToken(
            name: "head-office", scopes: ["branch:A", "branch:B", "branch:C", "branch:D"], expiresAt: nil, now: now).secret
        let device = try await server.storage.createToken(name: "laptop", scopes: ["branch:C", "branch:A", "branch:B"], expiresAt: nil, now: now).secret
        try await server.test { client in
            // c-03 and c-10 are in two of the device's scopes, c-06 is in branch:A twice (two live tags),
            // c-07 left branch:B; c-04, c-07 and c-11 are only in branch:D.
            let homes: [(String, String)] = [
                ("c-01", "branch:A"), ("c-02", "branch:B"), ("c-03", "branch:A"), ("c-03", "branch:B"), ("c-04", "branch:D"),
                ("c-05", "branch:C"), ("c-06", "branch:A"), ("c-07", "branch:D"), ("c-07", "branch:B"), ("c-08", "branch:A"),
                ("c-09", "branch:C"), ("c-10", "branch:B"), ("c-10", "branch:C"), ("c-11", "branch:D"), ("c-12", "branch:A"),
            ]
            var changes = try homes.enumerated().map { index, home in
                try scopeChange(Int64(index + 1), replica: "r-w", customer: CustomerID(unchecked: home.0), scope: home.1)
            }
            let addedToB = try HybridTimestamp(wallMillis: 1_764_000_000_000 + 9, counter: 0, replica: "r-w")
            changes.append(try scopeChange(16, replica: "r-w", customer: "c-07", scope: "branch:B", op: "remove", observed: [addedToB]))
            for body in [pushBody(changes, replica: "r-w"), pushBody([try scopeChange(1, replica: "r-x", customer: "c-06", scope: "branch:A")], replica: "r-x")] {
                let pushed = try await client.post("/v1/push", body, token: writer)
                #expect(pushed.json["results"]?.arrayValue?.allSatisfy { $0["outcome"] == "accepted" } == true)
            }
            var received: [String] = []
            var page: String?
            repeat {
                let request = page.map { "{\"limit\":2,\"page\":\"\($0)\"}" } ?? "{\"limit\":2}"
                let answer = try WireCodec().decode(BootstrapPage.self, from: try await client.post("/v1/bootstrap", request, token: device).text)
                #expect(answer.customers.count <= 2)
                received += answer.customers.map(\.customer.rawValue)
                page = answer.nextPage?.rawValue
            } while page != nil && received.count < 100
            #expect(received == ["c-01", "c-02", "c-03", "c-05", "c-06", "c-08", "c-09", "c-10", "c-12"])
        }
    }

    @Test("a cursor of one token is refused for another: cursor_expired, nothing read", arguments: ServerBackend.all)
    func cursorOfAnotherToken(backend: ServerBackend) async throws {
        let server = try await ServerHarness.make(backend)
        defer { server.remove() }
        let now = Instant(millisecondsSince1970: 1_764_000_000_000)
        let tokenB = try await server.storage.createToken(name: "laptop-b", scopes: ["branch:B"], expiresAt: nil, now: now).secret
        try await server.test { client in
            _ = try await client.post(
                "/v1/push", pushBody([try scopeChange(1, replica: "r-b", customer: "c-b", scope: "branch:B")], replica: "r-b"), token: tokenB)
            let pageB = try WireCodec().decode(PullResponse.self, from: try await client.post("/v1/pull", "{\"limit\":1}", token: tokenB).text)
            let stolen = try await client.post("/v1/pull", "{\"after\":\"\(pageB.nextCursor.rawValue)\",\"limit\":100}", token: server.token)
            #expect(stolen.status.code == 410 && stolen.json["code"] == "cursor_expired")
            let snapB = try WireCodec().decode(BootstrapPage.self, from: try await client.post("/v1/bootstrap", "{\"limit\":100}", token: tokenB).text)
            let stolenSnap = try await client.post("/v1/pull", "{\"after\":\"\(snapB.resumeCursor.rawValue)\",\"limit\":100}", token: server.token)
            #expect(stolenSnap.json["code"] == "cursor_expired")
        }
    }

    @Test("a customer made without a scope: refused out_of_scope, it leaves the store, but its changes are kept aside, never deleted", arguments: ServerBackend.all)
    func unscopedCustomerKeepsItsWork(backend: ServerBackend) async throws {
        try await LiveServer.run(backend) { server in
            let now = Instant(millisecondsSince1970: WallClock.system.now())
            let token = try await server.storage.createToken(name: "a", scopes: ["branch:A"], expiresAt: nil, now: now).secret
            let store = try server.newStore("forgetful")
            let note = try await store.write { writer in
                try writer.createCustomer("c-9")  // no scope: the server cannot place it
                try writer.set(.preferredName, to: "Ivo", of: "c-9")
                return try writer.addNote(NewNote(text: "wants a call about the mortgage", author: "a-1", channel: .branch), to: "c-9")
            }
            let summary = try await sync(store, server, token)
            #expect(!summary.rejections.isEmpty && summary.rejections.allSatisfy { $0.reason == .outOfScope && $0.permanent })
            #expect(summary.purges.map(\.customer) == ["c-9"], "not in the device's scopes: it leaves the store")
            let kept = try await store.read { reader in (try reader.exists("c-9"), try reader.pushRejections()) }
            #expect(!kept.0)
            #expect(kept.1.count == summary.rejections.count && kept.1.allSatisfy { $0.reason == "out_of_scope" })
            let keptNote = try #require(kept.1.first { $0.change.entity == .note }, "the advisor's note is kept aside for a person")
            #expect(keptNote.change.record == note && keptNote.change.value["text"] == "wants a call about the mortgage")
            #expect(try await server.storage.logCount() == 0)
            // A second sync changes nothing: the set-aside work stays.
            _ = try await sync(store, server, token)
            #expect(try await store.read { try $0.pushRejections().count } == summary.rejections.count)
        }
    }

    @Test("reassigned: the old branch's device purges the customer, outbox included, and the new branch's gets it whole", arguments: ServerBackend.all)
    func reassignment(backend: ServerBackend) async throws {
        try await LiveServer.run(backend) { server in
            let now = Instant(millisecondsSince1970: WallClock.system.now())
            let tokenA = try await server.storage.createToken(name: "a", scopes: ["branch:A"], expiresAt: nil, now: now).secret
            let tokenB = try await server.storage.createToken(name: "b", scopes: ["branch:B"], expiresAt: nil, now: now).secret
            let a = try server.newStore("a"), a2 = try server.newStore("a2"), b = try server.newStore("b")
            try await a.write { writer in
                try writer.createCustomer("c-1", in: ["branch:A"])
                try writer.set(.preferredName, to: "Jana", of: "c-1")
                for index in 0..<12 { _ = try writer.addNote(NewNote(text: "note \(index)", author: "a-1", channel: .branch), to: "c-1") }
            }
            try await sync(a, server, tokenA)
            try await sync(a2, server, tokenA)
            try await sync(b, server, tokenB)
            #expect(try await b.read { try $0.exists("c-1") } == false)
            // a2 has an edit not pushed yet when a moves the customer to branch B.
            try await a2.write { writer in try writer.set(.stage, to: .active, of: "c-1") }
            try await a.write { writer in
                try writer.add("branch:B", to: .scopes, of: "c-1")
                try writer.remove("branch:A", from: .scopes, of: "c-1")
            }
            let moved = try await sync(a, server, tokenA)
            #expect(moved.purges.map(\.customer) == ["c-1"] && moved.purges.first?.reason == .leftScopes)
            #expect(try await a.read { try $0.exists("c-1") } == false)
            let offline = try await sync(a2, server, tokenA)
            #expect(offline.rejections.map(\.reason) == [.outOfScope], "the edit came too late")
            #expect(offline.purges.map(\.customer) == ["c-1"])
            #expect(try await a2.read { try ($0.exists("c-1"), $0.outboxCount(), $0.pushRejections().count) } == (false, 0, 0))
            // B pulls it whole, in pages of 4 changes: the customer's state spans several.
            let arrived = try await sync(b, server, tokenB, pageSize: 4)
            #expect(arrived.purges.isEmpty)
            #expect(try await b.read { try $0.notes(of: "c-1", limit: 100).count } == 12)
            #expect(try await b.read { try $0.profile(of: "c-1")[.preferredName] } == "Jana")
            #expect(try await b.read { try $0.profile(of: "c-1").sets["scopes"] } == ["branch:B"])
            // Back to branch A: a gets it whole again, its own earlier notes included.
            try await b.write { writer in _ = try writer.add("branch:A", to: .scopes, of: "c-1") }
            try await sync(b, server, tokenB)
            let back = try await sync(a, server, tokenA, pageSize: 5)
            #expect(back.purges.isEmpty)
            #expect(try await a.read { try $0.notes(of: "c-1", limit: 100).count } == 12)
            #expect(try await export(a) == export(b))
        }
    }

    @Test(
        "a device whose sync stopped after it pushed new customers, before its pull, purges the one reassigned away meanwhile, once, and gets the later changes of the other",
        arguments: ServerBackend.all)
    func reassignedBeforeThePullAfterAPush(backend: ServerBackend) async throws {
        try await LiveServer.run(backend) { server in
            let now = Instant(millisecondsSince1970: WallClock.system.now())
            let tokenA = try await server.storage.createToken(name: "a", scopes: ["branch:A"], expiresAt: nil, now: now).secret
            let tokenB = try await server.storage.createToken(name: "b", scopes: ["branch:B"], expiresAt: nil, now: now).secret
            let a = try server.newStore("a"), a2 = try server.newStore("a2"), b = try server.newStore("b")
            try await sync(a, server, tokenA)
            try await sync(a2, server, tokenA)
            /// A sync of `store` whose pulls never reach the server: it bootstraps (if it must) and pushes, then stops.
            func pushOnly(_ store: CustomerStore) async throws {
                let transport = FaultyTransport(try HTTPSyncTransport(server: server.url)) { path, _ in
                    path == "/v1/pull" ? .dropRequest : nil
                }
                let configuration = SyncConfiguration(server: server.url, token: tokenA, retry: EndToEndSyncClientTests.quickRetry)
                await #expect(throws: (any Error).self) {
                    try await SyncClient(store: store, configuration: configuration, transport: transport).sync()
                }
                #expect(try await store.read { try $0.outboxCount() } == 0, "the push went through")
            }

            // a creates c-1 and c-2 in branch A; its sync pushes them and stops before the pull.
            try await a.write { writer in
                for id: CustomerID in ["c-1", "c-2"] {
                    try writer.createCustomer(id, in: ["branch:A"])
                    try writer.set(.preferredName, to: "Jana", of: id)
                    _ = try writer.addNote(NewNote(text: "first meeting of \(id)", author: "a-1", channel: .branch), to: id)
                }
            }
            try await pushOnly(a)
            // Before a syncs again, a2 moves c-1 to branch B and adds a note to c-2.
            try await sync(a2, server, tokenA)
            try await a2.write { writer in
                try writer.add("branch:B", to: .scopes, of: "c-1")
                try writer.remove("branch:A", from: .scopes, of: "c-1")
                _ = try writer.addNote(NewNote(text: "second meeting", author: "a-2", channel: .phone), to: "c-2")
            }
            try await sync(a2, server, tokenA)

            let back = try await sync(a, server, tokenA)
            #expect(back.purges.map(\.customer) == ["c-1"] && back.purges.first?.reason == .leftScopes, "c-1 left a's scopes")
            #expect(try await a.read { try $0.exists("c-1") } == false)
            #expect(back.pulled == 1, "a2's note of c-2")
            #expect(try await a.read { try $0.notes(of: "c-2", limit: 10).count } == 2)
            #expect(try await sync(a, server, tokenA).purges.isEmpty, "one purge notice, not two")

            try await sync(b, server, tokenB)
            try await sync(a2, server, tokenA)
            #expect(try await b.read { try $0.notes(of: "c-1", limit: 10).count } == 1, "b has c-1 whole")
            #expect(try await export(a) == export(a2))
        }
    }

    @Test("hundreds of customers entering (token scopes grown) and leaving (reassigned away) in small pages: reconciled slice by slice, each once, nothing missed", arguments: ServerBackend.all)
    func reconciliationInSlices(backend: ServerBackend) async throws {
        try await LiveServer.run(backend) { server in
            let now = Instant(millisecondsSince1970: WallClock.system.now())
            let tokenA = try await server.storage.createToken(name: "laptop-a", scopes: ["branch:A"], expiresAt: nil, now: now).secret
            let issuedB = try await server.storage.createToken(name: "laptop-b", scopes: ["branch:B"], expiresAt: nil, now: now)
            let idB = try #require(try await server.storage.tokens().first { $0.name == "laptop-b" }?.id)
            let a = try server.newStore("a"), b = try server.newStore("b")
            let count = 3 * 256 + 7  // more than three slices of a round (ReconcileRound.customersPerSlice)
            try await a.write { writer in
                for index in 0..<count {
                    let id = CustomerID(unchecked: String(format: "c-%04d", index))
                    try writer.createCustomer(id, in: ["branch:A"])
                    _ = try writer.addNote(NewNote(text: "note \(index)", author: "a-1", channel: .branch), to: id)
                }
            }
            try await b.write { writer in try writer.createCustomer("c-b-own", in: ["branch:B"]) }
            try await sync(a, server, tokenA)
            try await sync(b, server, issuedB.secret)
            func held() async throws -> Set<String> {
                Set(try await b.read { try $0.customers(matching: CustomerFilter(limit: 10_000)).map(\.id.rawValue) })
            }
            #expect(try await held() == ["c-b-own"])

            // Full round: the token now sees branch:A too; every customer enters, in pages of 40 changes.
            #expect(try await server.storage.setTokenScopes(id: idB, scopes: ["branch:A", "branch:B"], at: now))
            let entered = try await sync(b, server, issuedB.secret, pageSize: 40)
            #expect(try await held().count == count + 1)
            #expect(entered.purges.isEmpty)
            #expect(try await b.read { try $0.notes(of: "c-0700", limit: 10).map(\.text) } == ["note 700"])

            // Incremental round: all but 5 are reassigned away from b's scopes; they leave b, slice by slice.
            try await sync(a, server, tokenA)
            try await a.write { writer in
                for index in 5..<count {
                    let id = CustomerID(unchecked: String(format: "c-%04d", index))
                    _ = try writer.add("branch:C", to: .scopes, of: id)
                    _ = try writer.remove("branch:A", from: .scopes, of: id)
                }
            }
            try await sync(a, server, tokenA)
            let left = try await sync(b, server, issuedB.secret, pageSize: 40)
            #expect(left.purges.count == count - 5 && Set(left.purges.map(\.customer)).count == count - 5, "each purged once")
            #expect(try await held() == Set((0..<5).map { String(format: "c-%04d", $0) } + ["c-b-own"]))
            // Settled: the next pull has nothing to reconcile.
            let again = try await sync(b, server, issuedB.secret, pageSize: 40)
            #expect(again.purges.isEmpty && again.pulled == 0)
        }
    }

    @Test("random scopes, reassignments and token scope changes: each device holds exactly the customers in its scopes", arguments: ServerBackend.all, [5, 77, 1234] as [UInt64])
    func property(backend: ServerBackend, seed: UInt64) async throws {
        try await LiveServer.run(backend) { server in
            var random = SplitMix(seed: seed)
            let scopes = ["branch:A", "branch:B", "branch:C"]
            func someScopes() -> [String] {
                let picked = scopes.filter { _ in Bool.random(using: &random) }
                return picked.isEmpty ? [scopes.randomElement(using: &random)!] : picked
            }
            let now = Instant(millisecondsSince1970: WallClock.system.now())
            var devices: [(store: CustomerStore, token: String, id: String, scopes: [String])] = []
            for index in 0..<4 {
                let granted = someScopes()
                let token = try await server.storage.createToken(name: "d\(index)", scopes: granted, expiresAt: nil, now: now)
                let id = try #require(try await server.storage.tokens().first { $0.name == "d\(index)" }?.id)
                devices.append((try server.newStore("d\(index)"), token.secret, id, granted))
            }
            var created = 0
            for step in 0..<60 {
                let index = Int.random(in: 0..<devices.count, using: &random)
                let device = devices[index]
                switch Int.random(in: 0..<10, using: &random) {
                case 0...2:
                    created += 1
                    let id = CustomerID(unchecked: "c-\(created)")
                    let home = device.scopes.randomElement(using: &random)!
                    try await device.store.write { writer in
                        try writer.createCustomer(id, in: [home])
                        try writer.set(.preferredName, to: "name \(step)", of: id)
                        _ = try writer.addNote(NewNote(text: "met on step \(step)", author: "a", channel: .branch), to: id)
                    }
                case 3...4:
                    // Reassign a customer this device holds: add a scope, maybe drop one.
                    let held = try await device.store.read { try $0.customers(matching: CustomerFilter(limit: 1000)).map(\.id) }
                    guard let customer = held.randomElement(using: &random) else { continue }
                    let target = scopes.randomElement(using: &random)!
                    let current = try await device.store.read { try $0.profile(of: customer).sets["scopes"] ?? [] }
                    let drop = Bool.random(using: &random) ? current.filter { $0 != target }.randomElement(using: &random) : nil
                    try await device.store.write { writer in
                        _ = try writer.add(target, to: .scopes, of: customer)
                        if let drop { _ = try writer.remove(drop, from: .scopes, of: customer) }
                    }
                case 5:
                    let granted = someScopes()
                    #expect(try await server.storage.setTokenScopes(id: device.id, scopes: granted, at: now))
                    devices[index].scopes = granted
                case 6:
                    let held = try await device.store.read { try $0.customers(matching: CustomerFilter(limit: 1000)).map(\.id) }
                    guard let customer = held.randomElement(using: &random) else { continue }
                    try await device.store.write { writer in
                        _ = try writer.addNote(NewNote(text: "edit \(step)", author: "a", channel: .phone), to: customer)
                    }
                default:
                    _ = try await sync(device.store, server, device.token, pageSize: Int.random(in: 2...20, using: &random))
                }
            }
            for _ in 0..<2 {
                for device in devices { _ = try await sync(device.store, server, device.token, pageSize: 5) }
            }
            let serverState = try JSONValue(parsing: try await server.storage.exportState())
            let everyone = serverCustomers(serverState)
            for (index, device) in devices.enumerated() {
                let expected = Set(everyone.filter { !$0.value.isDisjoint(with: device.scopes) }.keys)
                let held = Set(try await device.store.read { try $0.customers(matching: CustomerFilter(limit: 10_000)).map(\.id.rawValue) })
                #expect(held == expected, "device \(index) with \(device.scopes) (seed \(seed))")
                for customer in held {
                    let notes = try await device.store.read { try $0.notes(of: CustomerID(unchecked: customer), limit: 1000).count }
                    #expect(notes == noteCount(serverState, customer), "device \(index), \(customer): every note (seed \(seed))")
                }
            }
        }
    }
}

/// One sync of `store` with `token`; pull pages of `pageSize` changes.
@discardableResult
func sync(_ store: CustomerStore, _ server: LiveServer, _ token: String, pageSize: Int = 500) async throws -> SyncSummary {
    var configuration = SyncConfiguration(server: server.url, token: token, retry: EndToEndSyncClientTests.quickRetry)
    configuration.pullPageSize = pageSize
    return try await SyncClient(store: store, configuration: configuration, transport: try HTTPSyncTransport(server: server.url)).sync()
}

/// The server's customers and their scopes, from its export.
func serverCustomers(_ export: JSONValue) -> [String: Set<String>] {
    var result: [String: Set<String>] = [:]
    for customer in export["customers"]?.arrayValue ?? [] {
        guard let id = customer["id"]?.stringValue else { continue }
        let scopes = customer["sets"]?["scopes"]?.arrayValue?.compactMap(\.stringValue) ?? []
        result[id] = Set(scopes)
    }
    return result
}

func noteCount(_ export: JSONValue, _ customer: String) -> Int {
    (export["customers"]?.arrayValue ?? []).first { $0["id"]?.stringValue == customer }?["notes"]?.arrayValue?.count ?? -1
}
