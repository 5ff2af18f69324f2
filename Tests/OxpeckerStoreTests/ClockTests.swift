import OxpeckerProtocol
import Testing

@testable import OxpeckerStore

@Suite("Hybrid logical clock in the store")
struct ClockTests {
    @Test("timestamps keep growing when the wall clock goes backwards, also across reopening")
    func monotonicWhenClockGoesBack() async throws {
        let folder = try TemporaryFolder()
        let clock = ManualClock(1_764_000_000_000)
        var store = try makeStore(clock: clock, in: folder)
        try await store.write { try $0.createCustomer("c-1") }
        var generator = SeededGenerator(seed: 42)
        for step in 0..<200 {
            // Jumps back by up to an hour, forward by up to a second, or stands still.
            clock.advance(Int64.random(in: -3_600_000...1000, using: &generator))
            if step % 50 == 49 {
                try store.close()
                store = try CustomerStore.open(at: folder.path("test.oxpecker"), options: StoreOptions(clock: clock.wallClock, durability: .normal))
            }
            let value = "name \(step)"
            try await store.write { try $0.set(.preferredName, to: value, of: "c-1") }
        }
        let outbox = try await store.read { try $0.outbox(limit: 10_000) }
        #expect(outbox.count == 201)
        #expect(zip(outbox, outbox.dropFirst()).allSatisfy { $0.hlc < $1.hlc && $0.hlc.description < $1.hlc.description })
        #expect(outbox.map(\.number) == Array(1...201))
        let profile = try await store.read { try $0.profile(of: "c-1") }
        #expect(profile[.preferredName] == "name 199", "the last write wins locally")
    }
}

/// A small deterministic generator (SplitMix64) so property tests replay from their seed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
