import Foundation
import OxpeckerStore

/// The cost of an encrypted store (`StoreOptions.key`): the same writes, profile reads
/// and searches on a plain store and on an encrypted one, in one invocation, the two
/// taking turns run by run (which goes first alternates) so that noise on a shared
/// machine falls on both. The key is a raw 32-byte key (`StoreKey.generate()`): a
/// passphrase's KDF is paid once at open, not per operation.
struct EncryptionBenchmark {
    struct Comparison {
        let figure: String
        let plain: Samples
        let encrypted: Samples
        let goal: Double
        var detail: String
    }

    let key = StoreKey.generate()
    let runs: Int

    /// Figure 1's writes (through the store API, in batches) into a new plain store and a new encrypted store.
    func writes(_ benchmark: WriteBenchmark, durability: Durability, progress: (String) -> Void) throws -> Comparison {
        var plain = Samples()
        var encrypted = Samples()
        let all = benchmark.customers[...], changes = benchmark.changes[...]
        let warmUp = max(1, all.count / 10)
        for key in [nil, key] { _ = try benchmark.storeRun(durability: durability, key: key, customers: all.prefix(warmUp), changes: changes.prefix(warmUp * 10)) }
        for index in 0..<runs {
            for encryptedTurn in index % 2 == 0 ? [false, true] : [true, false] {
                let seconds = try benchmark.storeRun(durability: durability, key: encryptedTurn ? key : nil, customers: all, changes: changes)
                if encryptedTurn { encrypted.startRun(); encrypted.add(seconds) } else { plain.startRun(); plain.add(seconds) }
            }
            progress("  run \(index + 1)/\(runs): plain \(formatDuration(plain.runs.last![0])), encrypted \(formatDuration(encrypted.runs.last![0]))")
        }
        return Comparison(
            figure: "Write \(changes.count / 1000)k field changes, encrypted store, sync \(durability.label)", plain: plain, encrypted: encrypted,
            goal: 1.15, detail: "\(benchmark.batchSize) changes per transaction, each run into a new store")
    }

    /// Figures 2 and 3 on two fixtures built alike, one plain and one encrypted.
    func reads(plain: Fixture, encrypted: Fixture, lookupsPerRun: Int, searchesPerRun: Int, progress: (String) -> Void) throws -> [Comparison] {
        let quiet: (String) -> Void = { _ in }
        var profiles = (plain: Samples(), encrypted: Samples())
        var searches: [(query: ReadBenchmarks.Query, plain: Samples, encrypted: Samples, plainHits: Int, encryptedHits: Int)] =
            ReadBenchmarks.queries.map { ($0, Samples(), Samples(), 0, 0) }
        for index in 0..<runs {
            for encryptedTurn in index % 2 == 0 ? [false, true] : [true, false] {
                let fixture = encryptedTurn ? encrypted : plain
                let profile = try ReadBenchmarks.profiles(in: fixture, runs: 1, lookupsPerRun: lookupsPerRun, progress: quiet).perCall
                let found = try ReadBenchmarks.search(in: fixture, runs: 1, repetitionsPerRun: searchesPerRun, progress: quiet)
                if encryptedTurn { profiles.encrypted.append(profile) } else { profiles.plain.append(profile) }
                for (position, result) in found.enumerated() {
                    if encryptedTurn {
                        searches[position].encrypted.append(result.samples); searches[position].encryptedHits = result.hits
                    } else {
                        searches[position].plain.append(result.samples); searches[position].plainHits = result.hits
                    }
                }
            }
            progress(
                "  run \(index + 1)/\(runs): open customer plain \(formatDuration(Samples.percentile(profiles.plain.runs.last!, 0.5))), "
                    + "encrypted \(formatDuration(Samples.percentile(profiles.encrypted.runs.last!, 0.5)))")
        }
        let customers = plain.customers.count
        var comparisons = [
            Comparison(
                figure: "Open customer with context, encrypted store, \(customers / 1000)k customers", plain: profiles.plain,
                encrypted: profiles.encrypted, goal: 1.15, detail: "\(lookupsPerRun) random lookups per run, each in its own readNow")
        ]
        for search in searches {
            let same = search.plainHits == search.encryptedHits
            comparisons.append(
                Comparison(
                    figure: "Search \"\(search.query.text)\" (\(search.query.label)), encrypted store, \(customers / 1000)k customers",
                    plain: search.plain, encrypted: search.encrypted, goal: 1.25,
                    detail: "\(searchesPerRun) searches per run; matching documents: plain \(search.plainHits), encrypted \(search.encryptedHits)"
                        + (same ? "" : " (DIFFERENT)")))
        }
        return comparisons
    }
}

extension Report {
    mutating func addEncryption(_ comparison: EncryptionBenchmark.Comparison) {
        let encrypted = comparison.encrypted.median, plain = comparison.plain.median
        let (low, high) = comparison.encrypted.range
        let ratio = encrypted / plain
        rows.append(
            Row(
                figure: comparison.figure, median: formatDuration(encrypted), range: "\(formatDuration(low))–\(formatDuration(high))",
                baseline: "plain store \(formatDuration(plain))", ratio: format(ratio, digits: 2) + "×",
                goal: "≤ " + format(comparison.goal, digits: 2) + "×", met: ratio <= comparison.goal ? "yes" : "no"))
        let (plainLow, plainHigh) = comparison.plain.range
        details.append(
            "\(comparison.figure): \(comparison.encrypted.runs.count) runs each, plain and encrypted in turns; plain range "
                + "\(formatDuration(plainLow))–\(formatDuration(plainHigh)); \(comparison.detail)")
    }
}
