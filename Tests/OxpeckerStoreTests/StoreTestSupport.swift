import Foundation
import OxpeckerProtocol
import Testing

@testable import OxpeckerStore

/// A folder under the system temporary directory, removed when the test ends.
final class TemporaryFolder: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("oxpecker-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// A wall clock a test moves by hand, also backwards.
final class ManualClock: Sendable {
    private let millis: Mutex<Int64>

    init(_ start: Int64 = 1_764_000_000_000) { millis = Mutex(start) }

    var wallClock: WallClock { WallClock { [self] in millis.withLock { $0 } } }

    func set(_ value: Int64) { millis.withLock { $0 = value } }
    func advance(_ delta: Int64) { millis.withLock { $0 += delta } }
}

import Synchronization

/// Makes a new store in a temporary folder with a manual clock.
func makeStore(clock: ManualClock = ManualClock(), in folder: TemporaryFolder) throws -> CustomerStore {
    try CustomerStore.create(at: folder.path("test.oxpecker"), options: StoreOptions(clock: clock.wallClock, durability: .normal))
}
