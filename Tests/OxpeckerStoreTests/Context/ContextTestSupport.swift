import Foundation
import OxpeckerProtocol
import Testing

@testable import OxpeckerStore

/// An instant from RFC 3339 text written in a test.
func at(_ text: String) throws -> Instant {
    try Instant(parsing: text)
}

/// A calendar date written in a test.
func day(_ text: String) throws -> LocalDate {
    try LocalDate(parsing: text)
}

/// The milliseconds of an instant, for a ``ManualClock``.
func millis(_ text: String) throws -> Int64 {
    try at(text).millisecondsSince1970
}

/// Two or more stores of one bank that exchange their changes as a sync server would relay them.
struct Replicas {
    let stores: [CustomerStore]
    let clocks: [ManualClock]
    /// How many outbox changes of each store were handed to the others.
    private var shared: [Int64]
    /// Every change handed on so far.
    private(set) var log: [Change] = []

    init(count: Int, start: Int64, in folder: TemporaryFolder) throws {
        let clocks = (0..<count).map { _ in ManualClock(start) }
        self.clocks = clocks
        stores = try (0..<count).map { index in
            try CustomerStore.create(
                at: folder.path("replica-\(index).oxpecker"), options: StoreOptions(clock: clocks[index].wallClock, durability: .normal))
        }
        shared = Array(repeating: 0, count: count)
    }

    subscript(index: Int) -> CustomerStore { stores[index] }

    /// Collects what store `index` has not shared yet.
    mutating func push(_ index: Int) async throws {
        let after = shared[index]
        let fresh = try await stores[index].read { try $0.outbox(after: after, limit: 1_000_000) }
        log += fresh
        shared[index] += Int64(fresh.count)
    }

    /// Every store pushes everything, then applies everything.
    mutating func syncAll() async throws {
        for index in stores.indices { try await push(index) }
        for store in stores { try await store.apply(log) }
    }
}
