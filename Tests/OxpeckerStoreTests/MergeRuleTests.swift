import OxpeckerProtocol
import Testing

@testable import OxpeckerStore

/// Property tests of the pure merge rules: replicas make random operations,
/// seeing each other's only now and then; delivering every operation to fresh
/// replicas in random orders, with duplicates, gives one and the same state.
@Suite("Merge rules are commutative, associative and idempotent")
struct MergeRuleTests {
    static let seeds: [UInt64] = [1, 2, 3, 7, 42, 1234, 99_999, 20_261_124]

    /// One operation of the property test, as a replica made it.
    enum Operation {
        case write(CausalWrite)
        case add(String, HybridTimestamp)
        case remove(String, [HybridTimestamp], HybridTimestamp)
    }

    struct Replica {
        var clock: HybridLogicalClock
        var register = CausalRegister()
        var set = AddWinsSet()
        var lww: StampedValue?
        var seen: [Operation] = []

        mutating func apply(_ operation: Operation) {
            switch operation {
            case .write(let write):
                register.merge(write)
                lww = RegisterRule.merge(current: lww, incoming: StampedValue(value: write.value, hlc: write.hlc))
                clock.observe(write.hlc)
            case .add(let element, let tag):
                set.add(element, tag: tag)
                clock.observe(tag)
            case .remove(let element, let observed, let stamp):
                set.remove(element, observed: observed, at: stamp)
                clock.observe(stamp)
            }
        }
    }

    static func randomHistory(seed: UInt64) -> [Operation] {
        var random = SeededGenerator(seed: seed)
        let replicaCount = Int.random(in: 2...5, using: &random)
        var replicas = (0..<replicaCount).map { Replica(clock: HybridLogicalClock(replica: ReplicaID(unchecked: "r\($0)"), last: nil)) }
        var history: [Operation] = []
        var wall: Int64 = 1_764_000_000_000
        for _ in 0..<300 {
            let index = Int.random(in: 0..<replicaCount, using: &random)
            // Skewed clocks: each replica reads the wall clock off by up to a minute either way.
            wall += Int64.random(in: 0...50, using: &random)
            let now = wall + Int64.random(in: -60_000...60_000, using: &random)
            let operation: Operation
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<4:
                let stamp = replicas[index].clock.next(wallMillis: now)
                operation = .write(CausalWrite(hlc: stamp, value: .integer(Int64.random(in: 0..<5, using: &random)), observed: replicas[index].register.headStamps))
            case 4..<7:
                let element = ["golf", "sailing", "opera"].randomElement(using: &random)!
                operation = .add(element, replicas[index].clock.next(wallMillis: now))
            case 7..<9:
                let element = ["golf", "sailing", "opera"].randomElement(using: &random)!
                operation = .remove(element, replicas[index].set.liveTags(of: element), replicas[index].clock.next(wallMillis: now))
            default:
                // Gossip: the replica catches up with everything another one has seen.
                let other = Int.random(in: 0..<replicaCount, using: &random)
                for seen in replicas[other].seen { replicas[index].apply(seen) }
                replicas[index].seen += replicas[other].seen
                continue
            }
            replicas[index].apply(operation)
            replicas[index].seen.append(operation)
            history.append(operation)
        }
        return history
    }

    static func deliver(_ history: [Operation], seed: UInt64) -> Replica {
        var random = SeededGenerator(seed: seed)
        var delivery = history + history.filter { _ in Bool.random(using: &random) }  // duplicates
        delivery.shuffle(using: &random)
        var replica = Replica(clock: HybridLogicalClock(replica: "fresh", last: nil))
        for operation in delivery { replica.apply(operation) }
        return replica
    }

    @Test("every delivery order of a random history ends in the same state", arguments: seeds)
    func convergence(seed: UInt64) {
        let history = Self.randomHistory(seed: seed)
        let reference = Self.deliver(history, seed: 0)
        for order in 1...20 {
            let other = Self.deliver(history, seed: seed &* 31 &+ UInt64(order))
            #expect(other.register == reference.register, "seed \(seed), order \(order)")
            #expect(other.set.elements == reference.set.elements, "seed \(seed), order \(order)")
            #expect(other.set == reference.set, "seed \(seed), order \(order)")
            #expect(other.lww == reference.lww, "seed \(seed), order \(order)")
        }
    }

    @Test("merging whole states is associative and idempotent", arguments: seeds)
    func stateMerge(seed: UInt64) {
        let history = Self.randomHistory(seed: seed)
        var random = SeededGenerator(seed: seed)
        let parts = history.reduce(into: [[Operation]](repeating: [], count: 3)) { parts, operation in
            parts[Int.random(in: 0..<3, using: &random)].append(operation)
        }
        let states = parts.map { part in Self.deliver(part, seed: seed) }
        var left = states[0]
        left.register.merge(states[1].register)
        left.register.merge(states[2].register)
        left.set.merge(states[1].set)
        left.set.merge(states[2].set)
        var right = states[2]
        var middle = states[1]
        middle.register.merge(states[0].register)
        right.register.merge(middle.register)
        middle.set.merge(states[0].set)
        right.set.merge(middle.set)
        #expect(left.register == right.register)
        #expect(left.set == right.set)
        let before = left.register
        left.register.merge(left.register)
        #expect(left.register == before)
        #expect(left.register == Self.deliver(history, seed: 5).register)
    }

    let a = try! HybridTimestamp(parsing: "001764000000000-000000-a")
    let b = try! HybridTimestamp(parsing: "001764000000001-000000-b")
    let c = try! HybridTimestamp(parsing: "001764000000002-000000-c")

    @Test("register: the later timestamp wins, whatever the order")
    func register() {
        let early = StampedValue(value: "early", hlc: a)
        let late = StampedValue(value: "late", hlc: b)
        #expect(RegisterRule.merge(current: early, incoming: late) == late)
        #expect(RegisterRule.merge(current: late, incoming: early) == late)
        #expect(RegisterRule.merge(current: late, incoming: late) == late)
    }

    @Test("guarded register: concurrent writes are a conflict until a write that saw both resolves it")
    func guardedConflict() {
        var register = CausalRegister()
        register.merge(CausalWrite(hlc: a, value: "Jana Nováková", observed: []))
        register.merge(CausalWrite(hlc: b, value: "Jana Novakova", observed: []))
        #expect(register.isConflict)
        #expect(register.heads.map(\.value) == ["Jana Nováková", "Jana Novakova"])
        register.merge(CausalWrite(hlc: c, value: "Jana Nováková", observed: register.headStamps))
        #expect(!register.isConflict)
        #expect(register.latest?.hlc == c)
        // A write that only saw the first one is superseded too once the resolution is known.
        var late = CausalRegister()
        late.merge(CausalWrite(hlc: c, value: "Jana Nováková", observed: [a, b]))
        late.merge(CausalWrite(hlc: b, value: "Jana Novakova", observed: [a]))
        late.merge(CausalWrite(hlc: a, value: "Jana Nováková", observed: []))
        #expect(late.heads.map(\.hlc) == [c])
    }

    @Test("consent: concurrent grant and withdraw, withdraw wins; a grant that saw the withdrawal wins")
    func consent() {
        let withdraw = (hlc: a, observed: [HybridTimestamp]())
        let concurrentGrant = (hlc: b, observed: [HybridTimestamp]())
        let heads = ConsentRules.heads(of: [withdraw, concurrentGrant])
        #expect(heads == [a, b])
        let status: [HybridTimestamp: ConsentStatus] = [a: .withdrawn, b: .granted, c: .granted]
        #expect(ConsentRules.decisive(heads, isWithdrawal: { status[$0] == .withdrawn }, hlc: { $0 }) == a)
        let laterGrant = (hlc: c, observed: [a, b])
        let after = ConsentRules.heads(of: [concurrentGrant, laterGrant, withdraw])
        #expect(after == [c])
    }

    @Test("add-wins set: an add concurrent with a remove survives; a remove that saw the add removes it")
    func addWins() {
        var set = AddWinsSet()
        set.add("golf", tag: a)
        set.remove("golf", observed: [a], at: b)
        #expect(set.elements == [])
        var concurrent = AddWinsSet()
        concurrent.remove("golf", observed: [a], at: c)
        concurrent.add("golf", tag: b)  // an add the remove never saw
        concurrent.add("golf", tag: a)
        #expect(concurrent.elements == ["golf"])
        #expect(concurrent.liveTags(of: "golf") == [b])
    }
}
