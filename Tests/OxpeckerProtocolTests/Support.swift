import Foundation
@testable import OxpeckerProtocol

/// Where the repository is, found from this file's path.
enum Repository {
    static let root: URL = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
            url.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }()

    static let protocolFolder = root.appendingPathComponent("Protocol")

    static func files(in folder: String, suffix: String = ".json") -> [String] {
        let path = protocolFolder.appendingPathComponent(folder).path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter { $0.hasSuffix(suffix) }.sorted()
    }

    static func bytes(_ relativePath: String) throws -> [UInt8] {
        Array(try Data(contentsOf: protocolFolder.appendingPathComponent(relativePath)))
    }
}

/// A small, fast, seedable generator (SplitMix64) so property tests replay.
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

/// Test data made by code.
enum Build {
    static let replica: ReplicaID = "r-test-1"

    static func stamp(_ wall: Int64, _ counter: UInt32 = 0, _ replica: ReplicaID = Build.replica) -> HybridTimestamp {
        // Values below the maximums: a failure here is a mistake in the test.
        (try? HybridTimestamp(wallMillis: wall, counter: counter, replica: replica))!
    }

    static func change(_ number: Int64, replica: ReplicaID = Build.replica, customer: CustomerID = "c-1", text: String = "Jana") -> Change {
        Change(
            replica: replica, number: number, hlc: stamp(1_764_000_000_000 + number, 0, replica), customer: customer,
            entity: .profile, field: "preferred_name", record: nil, kind: .register, value: .string(text))
    }

    static func decodeError<Message: WireMessage>(_ type: Message.Type, _ text: String, codec: WireCodec = WireCodec()) -> WireError? {
        do {
            _ = try codec.decode(type, from: text)
            return nil
        } catch {
            return error
        }
    }
}
