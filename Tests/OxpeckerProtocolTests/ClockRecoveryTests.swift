import Testing
@testable import OxpeckerProtocol

@Suite("Clock recovery: restamping the changes of a clock that ran ahead")
struct ClockRecoveryTests {
    static let now: Int64 = 1_764_000_000_000
    static let allowance: Int64 = 300_000
    static let hours3: Int64 = 3 * 3_600_000

    @Test("the push rule: a stamp is ahead only beyond server time plus the allowance")
    func aheadIsThePushRule() {
        #expect(!ClockRecovery.isAhead(Build.stamp(Self.now + Self.allowance, 999_999), serverMillis: Self.now, allowanceMillis: Self.allowance))
        #expect(ClockRecovery.isAhead(Build.stamp(Self.now + Self.allowance + 1), serverMillis: Self.now, allowanceMillis: Self.allowance))
        #expect(ClockRecovery.limit(serverMillis: .max - 1, allowanceMillis: 10) == .max, "no overflow")
    }

    @Test("the restamped suffix starts at the first change beyond the allowance")
    func firstAhead() {
        let stamps = [Build.stamp(Self.now - 10), Build.stamp(Self.now + 1_000), Build.stamp(Self.now + Self.hours3), Build.stamp(Self.now + Self.hours3, 1)]
        #expect(ClockRecovery.firstAhead(in: stamps, serverMillis: Self.now, allowanceMillis: Self.allowance) == 2)
        #expect(ClockRecovery.firstAhead(in: Array(stamps.prefix(2)), serverMillis: Self.now, allowanceMillis: Self.allowance) == nil)
    }

    @Test(
        "restamping keeps the order, stays above every kept stamp, within the allowance, one new stamp per change",
        arguments: [UInt64(1), 2, 3, 17, 2026])
    func restampProperties(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        // A clock that ran ahead by up to a day wrote a run of changes, several per millisecond at times.
        var clock = HybridLogicalClock(replica: Build.replica, last: nil)
        let skew = Int64.random(in: Self.allowance + 120_000...86_400_000, using: &random)
        var wall = Self.now - 3_600_000
        var stamps: [HybridTimestamp] = []
        for _ in 0..<Int.random(in: 1...400, using: &random) {
            wall += Int64.random(in: 0...2_000, using: &random)
            stamps.append(clock.next(wallMillis: wall + skew))
        }
        let serverNow = wall + Int64.random(in: 0...60_000, using: &random)
        // What the store keeps: everyone else's stamps, up to the allowance ahead of the server.
        let other = Build.stamp(serverNow + Int64.random(in: -3_600_000...Self.allowance, using: &random), 7, "r-other")
        let first = ClockRecovery.firstAhead(in: stamps, serverMillis: serverNow, allowanceMillis: Self.allowance)
        let ahead = first.map { Array(stamps[$0...]) } ?? []
        // The caller's floor: the unsent changes before the first one ahead count as kept.
        let kept = ([other] + stamps.prefix(first ?? stamps.count)).max()!
        let plan = ClockRecovery.plan(
            restamping: ahead, keptMaximum: kept, clockLast: clock.last, serverMillis: serverNow, allowanceMillis: Self.allowance,
            replica: Build.replica)
        guard case .restamp(let replacements, let last) = plan else {
            Issue.record("seed \(seed): \(plan)")
            return
        }
        #expect(replacements.map(\.old) == ahead, "seed \(seed): every change beyond the allowance, in order, once")
        let new = replacements.map(\.new)
        #expect(zip(new, new.dropFirst()).allSatisfy { $0 < $1 }, "seed \(seed): strictly increasing in outbox order")
        #expect(new.allSatisfy { $0 > kept && $0.replica == Build.replica }, "seed \(seed): above everything kept")
        #expect(new.allSatisfy { !ClockRecovery.isAhead($0, serverMillis: serverNow, allowanceMillis: Self.allowance) }, "seed \(seed)")
        if let first, first > 0 { #expect(new.first! > stamps[first - 1], "seed \(seed): after the unsent changes kept") }
        #expect(last == new.last ?? kept, "seed \(seed): the clock continues after the last new stamp")
        #expect(replacements.allSatisfy { $0.shiftMillis > 0 }, "seed \(seed): every stamp moves back")
        var after = HybridLogicalClock(replica: Build.replica, last: last)
        let next = after.next(wallMillis: serverNow)
        #expect(!ClockRecovery.isAhead(next, serverMillis: serverNow, allowanceMillis: Self.allowance), "seed \(seed): new edits are not ahead")
    }

    @Test("nothing ahead: nothing to do; only the clock ahead: it moves back to the greatest kept stamp")
    func clockAlone() {
        let kept = Build.stamp(Self.now - 5)
        #expect(
            ClockRecovery.plan(restamping: [], keptMaximum: kept, clockLast: Build.stamp(Self.now + 1_000), serverMillis: Self.now,
                               allowanceMillis: Self.allowance, replica: Build.replica) == .upToDate)
        #expect(
            ClockRecovery.plan(restamping: [], keptMaximum: kept, clockLast: Build.stamp(Self.now + Self.hours3), serverMillis: Self.now,
                               allowanceMillis: Self.allowance, replica: Build.replica) == .restamp([], last: kept))
    }

    @Test("a kept stamp beyond the allowance (the server's clock is behind): blocked, nothing restamped")
    func keptAheadBlocks() {
        let kept = Build.stamp(Self.now + Self.hours3, 0, "r-other")
        let plan = ClockRecovery.plan(
            restamping: [Build.stamp(Self.now + Self.hours3 + 5)], keptMaximum: kept, clockLast: Build.stamp(Self.now + Self.hours3 + 5),
            serverMillis: Self.now, allowanceMillis: Self.allowance, replica: Build.replica)
        #expect(plan == .blocked(by: kept))
    }

    @Test("the handshake announces the clock-skew allowance; the golden vector's is five minutes")
    func helloAnnouncesAllowance() throws {
        let body = Array(try Repository.bytes("vectors/valid/hello_response.basic.json").dropLast())
        let hello = try WireCodec().decode(HelloResponse.self, from: body)
        #expect(hello.maximumClockSkewMillis == 300_000)
        #expect(WireCodec().encode(hello) == body)
    }
}
