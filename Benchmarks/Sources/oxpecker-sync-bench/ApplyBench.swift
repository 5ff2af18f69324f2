import ArgumentParser
import Foundation
import OxpeckerProtocol
import OxpeckerStore

/// The device's merge alone, without the network or the server: device A's
/// changes (13 per customer, as in the sync runs) read from its outbox, then
/// merged into an empty store B with `StoreWriter.apply` in pages of
/// `--page` changes, one transaction per page (as a pull applies them), then
/// merged again into the full store (every change a duplicate, as a replayed
/// page is). Baseline: raw SQLite inserts of as many rows, in the same run.
struct ApplyBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply", abstract: "Measure merging pulled changes into a store (no network), against raw SQLite inserts.")

    @Option(help: "Customers on device A (13 changes each).")
    var customers: Int = 20_000

    @Option(help: "Changes per page (one transaction each).")
    var page: Int = 1_000

    @Option(help: "Runs (a fresh store B each).")
    var runs: Int = 3

    @Flag(help: "Also merge into an encrypted store B in each run, in turns with the plain one, and give the ratio.")
    var encrypted = false

    func validate() throws {
        guard customers >= 1, page >= 1, runs >= 1 else { throw ValidationError("--customers, --page and --runs must be at least 1") }
    }

    func run() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("oxpecker-apply-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func path(_ name: String) -> String { folder.appendingPathComponent(name).path }
        let options = StoreOptions(durability: .normal)
        let run = SyncRun(customers: customers)

        note("filling device A with \(customers) customers …")
        let a = try CustomerStore.create(at: path("a.oxpecker"), options: options)
        try run.fill(a, customers: customers)
        var changes: [Change] = []
        try a.readNow { reader in
            while true {
                let next = try reader.outbox(after: changes.last?.number ?? 0, limit: 10_000)
                if next.isEmpty { break }
                changes += next
            }
        }
        let pages = stride(from: 0, to: changes.count, by: page).map { Array(changes[$0..<min($0 + page, changes.count)]) }
        let expected = try run.exportText(a)

        let key = StoreKey.generate()
        for index in 1...runs {
            // Which store goes first alternates, so that drift on the machine falls on both.
            let kinds: [StoreKey?] = !encrypted ? [nil] : index % 2 == 1 ? [nil, key] : [key, nil]
            var fresh: [Bool: Double] = [:]
            for kind in kinds {
                var storeOptions = options
                storeOptions.key = kind
                let b = try CustomerStore.create(at: path("b-\(index)\(kind == nil ? "" : "-encrypted").oxpecker"), options: storeOptions)
                let clock = ContinuousClock()
                var start = clock.now
                for changes in pages { _ = try b.writeNow { try $0.apply(changes) } }
                fresh[kind != nil] = (clock.now - start).seconds
                start = clock.now
                for changes in pages { _ = try b.writeNow { try $0.apply(changes) } }
                let again = (clock.now - start).seconds
                let identical = try run.exportText(b) == expected
                try b.close()
                print(
                    "run \(index)\(kind == nil ? "" : " (encrypted store)"): \(changes.count) changes into an empty store \(rate(changes.count, fresh[kind != nil]!)), "
                        + "again (duplicates) \(rate(changes.count, again)); export identical: \(identical ? "yes" : "NO")")
                guard identical else { throw ExitCode.failure }
            }
            let raw = try run.rawInsert(rows: changes.count, at: path("raw-\(index).sqlite"))
            print(
                "run \(index): raw SQLite \(rate(changes.count, raw)): plain store \(String(format: "%.1f", fresh[false]! / raw))× raw"
                    + (encrypted ? ", encrypted store \(String(format: "%.1f", fresh[true]! / raw))× raw, encrypted/plain \(String(format: "%.2f", fresh[true]! / fresh[false]!))×" : ""))
        }
    }

    func rate(_ count: Int, _ seconds: Double) -> String { "\(Int(Double(count) / seconds)) changes/s" }
}
