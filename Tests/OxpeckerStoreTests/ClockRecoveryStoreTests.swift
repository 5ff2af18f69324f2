import Foundation
import GRDB
import OxpeckerProtocol
import Testing

@_spi(OxpeckerServer) @testable import OxpeckerStore

@Suite("Clock recovery in the store: unsent changes stamped ahead are restamped, with everything that carries their stamps")
struct ClockRecoveryStoreTests {
    static let realNow: Int64 = 1_764_000_000_000
    static let threeHours: Int64 = 3 * 3_600_000
    static let allowance: Int64 = 300_000

    /// Writes something of every kind for `customer`, so that every stamp column and observed list is used.
    static func writeEverything(_ writer: StoreWriter, _ customer: CustomerID) throws {
        try writer.createCustomer(customer, in: ["branch:HN01"])
        try writer.set(.legalName, to: "Jana Nováková", of: customer)
        try writer.set(.legalName, to: "Jana Svobodová", of: customer)  // a guarded write observing the first
        try writer.set(.stage, to: .active, of: customer)
        try writer.add("sailing", to: .interests, of: customer)
        try writer.remove("sailing", from: .interests, of: customer)  // observes the add's tag
        try writer.add("golf", to: .interests, of: customer)
        let note = try writer.addNote(NewNote(text: "wants a mortgage", author: "a-417", channel: .branch), to: customer)
        try writer.reviseNote(note, text: "wants a mortgage, 20 years", author: "a-417")
        let other = try writer.addNote(NewNote(text: "said too much", author: "a-417", channel: .phone), to: customer)
        try writer.redactNote(other, by: "a-417", reason: "not needed")
        try writer.recordConsent(.granted, for: .marketing, source: "branch form", of: customer)
        try writer.recordConsent(.withdrawn, for: .marketing, source: "phone call", of: customer)  // observes the grant
        try writer.recordLifeEvent(NewLifeEvent(type: .homePurchase, date: try LocalDate(parsing: "2026-10-01"), source: "advisor"), of: customer)
        try writer.recordContact(NewContact(channel: .email, purpose: "service", topic: "mortgage", outcome: .shown), of: customer)
    }

    /// Every row of every table of the store's state and outbox, one sorted line each
    /// (the clock's own row aside): what must come out the same, stamps renamed.
    static func dump(_ store: CustomerStore) async throws -> [String] {
        try await store.readDatabase { _, db in
            let tables = try String.fetchAll(
                db,
                sql: """
                    SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'search_%'
                      AND name NOT IN ('store_info', 'sync_state') ORDER BY name
                    """)
            var lines: [String] = []
            for table in tables {
                for row in try Row.fetchAll(db, sql: "SELECT * FROM \(table)") {
                    lines.append(table + " " + row.columnNames.map { "\($0)=\(row[$0] as DatabaseValue)" }.joined(separator: " "))
                }
            }
            return lines.sorted()
        }
    }

    /// Every stamp stored anywhere in the state and outbox.
    static func stamps(in lines: [String]) -> [String] {
        let pattern = try! NSRegularExpression(pattern: "[0-9]{15}-[0-9]{6}-[A-Za-z0-9._:-]+")
        return lines.flatMap { line in
            pattern.matches(in: line, range: NSRange(line.startIndex..., in: line)).map { String(line[Range($0.range, in: line)!]) }
        }
    }

    func outbox(_ store: CustomerStore) async throws -> [Change] {
        try await store.read { try $0.outbox(limit: 100_000) }
    }

    @Test("a clock three hours ahead, then fixed: every unsent change is restamped in order, and so is every row that carries its stamp")
    func restampsEverything() async throws {
        let folder = try TemporaryFolder()
        let clock = ManualClock(Self.realNow + Self.threeHours)
        let store = try makeStore(clock: clock, in: folder)
        try await store.write { try Self.writeEverything($0, "c-1") }
        clock.set(Self.realNow + 60_000)  // the clock is fixed; the HLC still stamps three hours ahead
        try await store.write { try $0.set(.preferredName, to: "Jana", of: "c-1") }
        let before = try await outbox(store)
        let dumpBefore = try await Self.dump(store)
        #expect(before.last!.hlc.wallMillis >= Self.realNow + Self.threeHours, "the edit after the fix is still stamped ahead")

        let report = try await store.write { try $0.recoverClock(serverOffsetMillis: 0, allowanceMillis: Self.allowance) }

        let after = try await outbox(store)
        #expect(report.outcome == .restamped)
        #expect(report.restamped == before.count)
        #expect(report.numbers == before.first!.number...before.last!.number)
        #expect(report.shiftMillis.map { $0.lowerBound > Self.threeHours - 120_000 && $0.upperBound < Self.threeHours + 120_000 } == true)
        #expect(report.rewrittenRows > 0)
        let limit = Self.realNow + 60_000 + Self.allowance
        #expect(after.map(\.number) == before.map(\.number), "numbers stay")
        #expect(zip(after, after.dropFirst()).allSatisfy { $0.hlc < $1.hlc }, "stamps strictly increase in outbox order")
        #expect(after.allSatisfy { $0.hlc.wallMillis <= limit && $0.hlc.replica == store.replica })
        let renamed = Dictionary(uniqueKeysWithValues: zip(before.map(\.hlc), after.map(\.hlc)))
        for (old, new) in zip(before, after) {
            #expect(new.value == old.value && new.customer == old.customer && new.entity == old.entity && new.field == old.field)
            #expect(new.observed == old.observed.map { renamed[$0] ?? $0 }, "change \(old.number): observed names the new stamps")
        }
        let removal = try #require(after.first { $0.value["op"]?.stringValue == "remove" })
        let add = try #require(after.first { $0.value["op"]?.stringValue == "add" && $0.value["element"]?.stringValue == "sailing" })
        #expect(removal.observed == [add.hlc], "the removal observes the add under its new tag")

        // Nothing lost, nothing else touched: the store is the same with the stamps renamed.
        var expected = dumpBefore.joined(separator: "\n")
        for (old, new) in renamed { expected = expected.replacingOccurrences(of: old.description, with: new.description) }
        let dumpAfter = try await Self.dump(store)
        #expect(dumpAfter.joined(separator: "\n") == expected.split(separator: "\n").map(String.init).sorted().joined(separator: "\n"))
        #expect(Self.stamps(in: dumpAfter).allSatisfy { $0 <= String(format: "%015lld-999999-~", limit) }, "no stamp beyond the allowance is left")
        #expect(try await store.read { try $0.profile(of: "c-1") }.sets["interests"] == ["golf"], "the removal still removes")

        let last = try await store.read { try $0.lastTimestamp() }
        #expect(last == after.last?.hlc, "the clock moved back to the last new stamp")
        let next = try await store.write { writer in
            try writer.set(.preferredName, to: "Jana N.", of: "c-1")
            return writer.changeCount
        }
        #expect(next == 1)
        let newest = try await outbox(store).last!.hlc
        #expect(newest > after.last!.hlc && newest.wallMillis <= limit, "a new edit is stamped after the restamped ones and not ahead")
    }

    @Test("only the run beyond the allowance moves: acknowledged changes and unsent ones within it keep their stamps")
    func onlyTheRunAhead() async throws {
        let folder = try TemporaryFolder()
        let clock = ManualClock(Self.realNow)
        let store = try makeStore(clock: clock, in: folder)
        try await store.write { try Self.writeEverything($0, "c-1") }
        let acknowledged = try await outbox(store).map(\.number)
        try await store.write { try $0.acknowledge(acknowledged) }
        clock.set(Self.realNow + 120_000)  // two minutes ahead: accepted by the server
        try await store.write { try $0.set(.preferredName, to: "Jana", of: "c-1") }
        clock.set(Self.realNow + Self.threeHours)
        try await store.write { try Self.writeEverything($0, "c-2") }
        let before = try await outbox(store)
        clock.set(Self.realNow)

        let report = try await store.write { try $0.recoverClock(serverOffsetMillis: 0, allowanceMillis: Self.allowance) }

        let after = try await outbox(store)
        #expect(after.first == before.first, "the unsent change within the allowance keeps its stamp")
        #expect(report.restamped == before.count - 1)
        #expect(report.numbers == before[1].number...before.last!.number)
        #expect(after[1].hlc > before[0].hlc, "restamped changes come after the ones kept")
        #expect(try await store.read { try $0.profile(of: "c-1") }.fields["stage"]?.hlc.wallMillis == Self.realNow, "acknowledged state keeps its stamps")
    }

    @Test("nothing ahead: nothing changes")
    func upToDate() async throws {
        let folder = try TemporaryFolder()
        let clock = ManualClock(Self.realNow + 200_000)
        let store = try makeStore(clock: clock, in: folder)
        try await store.write { try Self.writeEverything($0, "c-1") }
        let dump = try await Self.dump(store)
        let last = try await store.read { try $0.lastTimestamp() }
        clock.set(Self.realNow)
        let report = try await store.write { try $0.recoverClock(serverOffsetMillis: 0, allowanceMillis: Self.allowance) }
        #expect(report.outcome == .upToDate && report.restamped == 0)
        #expect(try await Self.dump(store) == dump)
        #expect(try await store.read { try $0.lastTimestamp() } == last)
    }

    @Test("a stamp of another replica beyond the allowance: blocked, nothing changes")
    func blockedByAnotherReplica() async throws {
        let folder = try TemporaryFolder()
        let clock = ManualClock(Self.realNow)
        let store = try makeStore(clock: clock, in: folder)
        try await store.write { try Self.writeEverything($0, "c-1") }
        let remote = Change(
            replica: "r-other", number: 1, hlc: try HybridTimestamp(wallMillis: Self.realNow + Self.threeHours, counter: 0, replica: "r-other"),
            customer: "c-1", entity: .profile, field: "stage", record: nil, kind: .register, value: "dormant")
        try await store.write { writer in _ = try writer.apply([remote]) }
        try await store.write { try $0.set(.preferredName, to: "Jana", of: "c-1") }  // stamped after the remote one
        let dump = try await Self.dump(store)
        let report = try await store.write { try $0.recoverClock(serverOffsetMillis: 0, allowanceMillis: Self.allowance) }
        #expect(report.outcome == .blocked(by: remote.hlc))
        #expect(try await Self.dump(store) == dump)
    }

    @Test("the clock alone ahead (its changes purged): it moves back, and the next edit is not ahead")
    func clockAloneMovesBack() async throws {
        let folder = try TemporaryFolder()
        let clock = ManualClock(Self.realNow)
        let store = try makeStore(clock: clock, in: folder)
        try await store.write { try Self.writeEverything($0, "c-1") }
        let kept = try await store.read { try $0.lastTimestamp() }
        clock.set(Self.realNow + Self.threeHours)
        try await store.write { try Self.writeEverything($0, "c-2") }
        try await store.write { writer in _ = try writer.purge("c-2") }
        clock.set(Self.realNow + 1_000)
        let report = try await store.write { try $0.recoverClock(serverOffsetMillis: 0, allowanceMillis: Self.allowance) }
        #expect(report.outcome == .restamped && report.restamped == 0)
        #expect(report.clockAfter == kept)
        try await store.write { try $0.set(.preferredName, to: "Jana", of: "c-1") }
        let stamp = try await outbox(store).last!.hlc
        #expect(stamp.wallMillis == Self.realNow + 1_000)
    }

    @Test(
        "property: random histories (local edits of every kind, pushes, remote changes, a clock that jumps ahead and is fixed): restamping renames stamps and nothing else",
        arguments: [UInt64(1), 2, 3, 42, 2026])
    func randomHistories(seed: UInt64) async throws {
        var random = SeededGenerator(seed: seed)
        let folder = try TemporaryFolder()
        var real = Self.realNow
        let clock = ManualClock(real)
        let store = try makeStore(clock: clock, in: folder)
        var skew: Int64 = 0
        var customers: [CustomerID] = []
        var notes: [RecordID] = []
        var remoteNumber: Int64 = 0
        let jump = Int.random(in: 10...50, using: &random)
        for step in 0..<80 {
            real += Int64.random(in: 0...20_000, using: &random)
            if step == jump { skew = Int64.random(in: Self.allowance + 60_000...Self.threeHours * 2, using: &random) }
            clock.set(real + skew)
            switch Int.random(in: 0..<10, using: &random) {
            case 0 where customers.count < 5, _ where customers.isEmpty:
                let id = CustomerID(unchecked: "c-\(customers.count + 1)")
                try await store.write { try Self.writeEverything($0, id) }
                customers.append(id)
            case 1:
                // A push: the server takes the changes not ahead of its clock, a prefix of the outbox.
                let limit = real + Self.allowance
                let taken = try await outbox(store).prefix { $0.hlc.wallMillis <= limit }.map(\.number)
                try await store.write { try $0.acknowledge(taken) }
            case 2:
                // Another device's change, stamped by a good clock, pulled.
                remoteNumber += 1
                let stamp = try HybridTimestamp(wallMillis: real, counter: UInt32(remoteNumber), replica: "r-other")
                let change = Change(
                    replica: "r-other", number: remoteNumber, hlc: stamp, customer: customers.randomElement(using: &random)!, entity: .profile,
                    field: Bool.random(using: &random) ? "preferred_name" : "interests", record: nil,
                    kind: .register, value: .string("remote \(remoteNumber)"))
                let set = change.field == "interests"
                    ? Change(
                        replica: "r-other", number: remoteNumber, hlc: stamp, customer: change.customer, entity: .profile, field: "interests",
                        record: nil, kind: .addWinsSet, value: ["element": "chess", "op": "add"])
                    : change
                try await store.write { writer in _ = try writer.apply([set]) }
            case 3:
                let customer = customers.randomElement(using: &random)!
                let note = try await store.write { try $0.addNote(NewNote(text: "note \(step)", author: "a-417", channel: .phone), to: customer) }
                notes.append(note)
            case 4 where !notes.isEmpty:
                let note = notes.randomElement(using: &random)!
                try await store.write { _ = try $0.reviseNote(note, text: "revised \(step)", author: "a-417") }
            case 5:
                let customer = customers.randomElement(using: &random)!
                let element = ["chess", "golf", "sailing"].randomElement(using: &random)!
                try await store.write { writer in
                    if !(try writer.add(element, to: .interests, of: customer)) { try writer.remove(element, from: .interests, of: customer) }
                }
            case 6:
                let customer = customers.randomElement(using: &random)!
                let status: ConsentStatus = Bool.random(using: &random) ? .granted : .withdrawn
                try await store.write { try $0.recordConsent(status, for: .profiling, source: "step \(step)", of: customer) }
            default:
                let customer = customers.randomElement(using: &random)!
                try await store.write { writer in
                    try writer.set(.legalName, to: "Name \(step)", of: customer)
                    try writer.set(.preferredName, to: "P \(step)", of: customer)
                }
            }
        }
        clock.set(real)  // the clock is fixed
        let before = try await outbox(store)
        let dumpBefore = try await Self.dump(store)

        let report = try await store.write { try $0.recoverClock(serverOffsetMillis: 0, allowanceMillis: Self.allowance) }

        let after = try await outbox(store)
        let limit = real + Self.allowance
        #expect(after.map(\.number) == before.map(\.number), "seed \(seed): numbers stay")
        #expect(zip(after, after.dropFirst()).allSatisfy { $0.hlc < $1.hlc }, "seed \(seed): stamps strictly increase in outbox order")
        #expect(after.allSatisfy { $0.hlc.wallMillis <= limit }, "seed \(seed): nothing left ahead")
        #expect(report.outcome == .restamped && report.restamped > 0, "seed \(seed): the clock jumped ahead at step \(jump)")
        let moved = zip(before, after).filter { $0.hlc != $1.hlc }
        #expect(report.restamped == moved.count, "seed \(seed)")
        #expect(moved.allSatisfy { $0.0.hlc.wallMillis > limit }, "seed \(seed): only changes beyond the allowance move")
        let renamed = Dictionary(uniqueKeysWithValues: moved.map { ($0.0.hlc, $0.1.hlc) })
        for (old, new) in zip(before, after) {
            #expect(new.observed == old.observed.map { renamed[$0] ?? $0 }, "seed \(seed), change \(old.number)")
        }
        var expected = dumpBefore.joined(separator: "\n")
        for (old, new) in renamed { expected = expected.replacingOccurrences(of: old.description, with: new.description) }
        let dumpAfter = try await Self.dump(store)
        #expect(
            dumpAfter.joined(separator: "\n") == expected.split(separator: "\n").map(String.init).sorted().joined(separator: "\n"),
            "seed \(seed): the store is the same, stamps renamed")
        #expect(Self.stamps(in: dumpAfter).allSatisfy { $0 <= String(format: "%015lld-999999-~", limit) }, "seed \(seed): no stamp ahead is left")
        let last = try await store.read { try $0.lastTimestamp() }
        #expect(last.map { $0.wallMillis <= limit } ?? true, "seed \(seed): the clock is back")
    }

    @Test("the server's time is the store's clock plus the offset: a fast server moves the stamps there, not to the device's time")
    func offsetIsUsed() async throws {
        let folder = try TemporaryFolder()
        let clock = ManualClock(Self.realNow + Self.threeHours)
        let store = try makeStore(clock: clock, in: folder)
        try await store.write { try $0.createCustomer("c-1", in: ["branch:HN01"]) }
        clock.set(Self.realNow)
        let report = try await store.write { try $0.recoverClock(serverOffsetMillis: 90_000, allowanceMillis: Self.allowance) }
        #expect(report.restamped == 2)
        #expect(try await outbox(store).allSatisfy { $0.hlc.wallMillis == Self.realNow + 90_000 })
    }
}
