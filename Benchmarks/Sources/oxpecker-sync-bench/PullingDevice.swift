import ArgumentParser
import Foundation
import Logging
import OxpeckerStore
import OxpeckerSync

/// A device in a process of its own, so that its memory is measured alone:
/// syncs one store once and prints what it pulled, how long it took, and the
/// process's peak resident memory, as one JSON line.
struct PullingDevice: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pulling-device", abstract: "Sync one store once and print {pulled, seconds, peakMiB} (used by measure).",
        shouldDisplay: false)

    @Option var server: String
    @Option var token: String
    @Option var store: String

    struct Output: Codable {
        var pulled: Int
        var seconds: Double
        var peakMiB: Double
    }

    func run() async throws {
        let options = StoreOptions(durability: .normal)
        let customerStore = FileManager.default.fileExists(atPath: store)
            ? try CustomerStore.open(at: store, options: options) : try CustomerStore.create(at: store, options: options)
        var logger = Logger(label: "oxpecker-sync-bench")
        logger.logLevel = .warning
        let client = try SyncClient(store: customerStore, configuration: SyncRun.configuration(server: server, token: token), logger: logger)
        let (summary, seconds) = try await timedAsync { try await client.sync() }
        try customerStore.close()
        let output = Output(pulled: summary.pulled, seconds: seconds, peakMiB: Double(peakResidentKiB()) / 1024)
        print(String(decoding: try JSONEncoder().encode(output), as: UTF8.self))
    }
}

/// VmHWM of this process, in KiB.
func peakResidentKiB() -> Int {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
    return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
}

func timedAsync<T>(_ body: () async throws -> T) async rethrows -> (T, Double) {
    let clock = ContinuousClock()
    let start = clock.now
    let result = try await body()
    return (result, (clock.now - start).seconds)
}

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }
}
