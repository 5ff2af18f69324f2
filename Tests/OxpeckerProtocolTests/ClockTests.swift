import Testing
@testable import OxpeckerProtocol

@Suite("Hybrid logical clock and timestamps")
struct ClockTests {
    @Test("timestamps only grow while the wall clock stalls or goes backwards", arguments: [UInt64(1), 7, 42, 2026])
    func monotonicUnderBackwardsClock(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        var clock = HybridLogicalClock(replica: Build.replica, last: nil)
        var wall: Int64 = 1_764_000_000_000
        var previous: HybridTimestamp?
        for _ in 0..<5_000 {
            wall += Int64.random(in: -5_000...3_000, using: &random)
            let stamp = clock.next(wallMillis: wall)
            if let previous { #expect(previous < stamp, "seed \(seed): \(previous) then \(stamp)") }
            previous = stamp
        }
    }

    @Test("a timestamp observed from another replica is exceeded by the next local one")
    func observeMovesPastRemote() {
        var clock = HybridLogicalClock(replica: "r-a", last: nil)
        let remote = Build.stamp(2_000_000_000_000, 17, "r-b")
        clock.observe(remote)
        let next = clock.next(wallMillis: 1_000_000_000_000)
        #expect(next > remote)
        #expect(next.wallMillis == remote.wallMillis && next.counter == 18)
        #expect(next.replica == "r-a")
    }

    @Test("observing an older timestamp changes nothing")
    func observeOlderIsNoOp() {
        var clock = HybridLogicalClock(replica: "r-a", last: nil)
        let first = clock.next(wallMillis: 5_000)
        clock.observe(Build.stamp(4_000, 99, "r-b"))
        #expect(clock.last == first)
        #expect(clock.next(wallMillis: 5_000) > first)
    }

    @Test("a full counter borrows the next millisecond rather than wrap")
    func counterOverflow() {
        var clock = HybridLogicalClock(replica: "r-a", last: Build.stamp(10_000, HybridTimestamp.maximumCounter, "r-a"))
        let next = clock.next(wallMillis: 9_000)
        #expect(next.wallMillis == 10_001 && next.counter == 0)
    }

    @Test("the string form round trips and its byte order is the time order", arguments: [UInt64(3), 99, 123_456])
    func stringFormOrdersLikeTimestamps(seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        let replicas: [ReplicaID] = ["a", "r-1", "r-10", "r-2", "Z", "server", "9f1c-77"]
        let stamps = (0..<2_000).map { _ in
            Build.stamp(
                Int64.random(in: 0...HybridTimestamp.maximumWallMillis, using: &random) / (Bool.random(using: &random) ? 1 : 1_000_000),
                UInt32.random(in: 0...HybridTimestamp.maximumCounter, using: &random) / (Bool.random(using: &random) ? 1 : 1000),
                replicas.randomElement(using: &random)!)
        }
        for stamp in stamps {
            #expect(try HybridTimestamp(parsing: stamp.description) == stamp)
            #expect(stamp.description.utf8.count == 23 + stamp.replica.rawValue.utf8.count)
        }
        for (a, b) in zip(stamps, stamps.dropFirst()) {
            let byBytes = a.description.utf8.lexicographicallyPrecedes(b.description.utf8)
            #expect(byBytes == (a < b), "seed \(seed): \(a) vs \(b)")
        }
    }

    @Test("malformed timestamps are refused", arguments: [
        "", "1764000000001-000000-r", "001764000000001-00000-r", "001764000000001-000000-", "001764000000001_000000-r",
        "00176400000000a-000000-r", "001764000000001-000000-r 1", "-01764000000001-000000-r",
    ])
    func malformedTimestamps(text: String) {
        #expect(throws: ProtocolError.self) { try HybridTimestamp(parsing: text) }
    }

    @Test("timestamps beyond the maximums cannot be made")
    func bounds() {
        #expect(throws: ProtocolError.self) { try HybridTimestamp(wallMillis: -1, counter: 0, replica: "r") }
        #expect(throws: ProtocolError.self) { try HybridTimestamp(wallMillis: 1, counter: 1_000_000, replica: "r") }
        #expect(throws: ProtocolError.self) {
            try HybridTimestamp(wallMillis: HybridTimestamp.maximumWallMillis + 1, counter: 0, replica: "r")
        }
    }
}
