import OxpeckerProtocol
import OxpeckerStore

/// Figures 2 and 3: reading the fixture store as an app does, one `readNow` per call.
enum ReadBenchmarks {
    /// Figure 2: `profile(of:)` of random customers, each timed alone, including
    /// `readNow` (taking a reader connection and its read transaction).
    static func profiles(
        in fixture: Fixture, runs: Int, lookupsPerRun: Int, progress: (String) -> Void
    ) throws -> (perCall: Samples, inOneRead: Samples) {
        var rng = SeededGenerator(seed: 99)
        // A sanity check on what is read: the whole context is there.
        let sample = try fixture.store.readNow { try $0.profile(of: fixture.customers[0]) }
        guard sample.fields.count >= 10, sample.recentNotes.count == 2, sample.consents.count == 1,
            sample.lifeEvents.count == 1, sample.recentContacts.count == 1, sample.sets.values.joined().count == 3
        else { throw BenchmarkError.check("the fixture's first profile is incomplete: \(sample)") }
        // Warm-up, not recorded.
        for _ in 0..<min(1000, lookupsPerRun) {
            let id = fixture.customers.randomElement(using: &rng)!
            _ = try fixture.store.readNow { try $0.profile(of: id) }
        }
        var perCall = Samples()
        var inOneRead = Samples()
        for run in 0..<runs {
            perCall.startRun()
            for _ in 0..<lookupsPerRun {
                let id = fixture.customers.randomElement(using: &rng)!
                let (_, seconds) = try timed { try fixture.store.readNow { try $0.profile(of: id) } }
                perCall.add(seconds)
            }
            // The same lookups without readNow's per-call cost: the queries alone.
            inOneRead.startRun()
            let ids = (0..<lookupsPerRun).map { _ in fixture.customers.randomElement(using: &rng)! }
            let times = try fixture.store.readNow { reader in
                try ids.map { id in try timed { try reader.profile(of: id) }.1 }
            }
            times.forEach { inOneRead.add($0) }
            progress("  run \(run + 1)/\(runs): median \(formatDuration(Samples.percentile(perCall.runs.last!, 0.5)))")
        }
        return (perCall, inOneRead)
    }

    struct Query {
        let label: String
        let text: String
    }

    static let queries = [
        Query(label: "surname prefix", text: "Nov"),
        Query(label: "given name + surname prefix", text: "Jana Dvoř"),
        Query(label: "word from notes", text: "mortgage"),
        Query(label: "two words from notes", text: "pension savings"),
    ]

    /// Figure 3: `search` for each query, timed alone, including `readNow`.
    static func search(
        in fixture: Fixture, runs: Int, repetitionsPerRun: Int, progress: (String) -> Void
    ) throws -> [(query: Query, samples: Samples, hits: Int)] {
        try queries.map { query in
            let hits = try fixture.store.readNow { try $0.search(query.text) }.count
            guard hits > 0 else { throw BenchmarkError.check("search '\(query.text)' found nothing") }
            var samples = Samples()
            for _ in 0..<min(5, repetitionsPerRun) { _ = try fixture.store.readNow { try $0.search(query.text) } }
            for _ in 0..<runs {
                samples.startRun()
                for _ in 0..<repetitionsPerRun {
                    let (_, seconds) = try timed { try fixture.store.readNow { try $0.search(query.text) } }
                    samples.add(seconds)
                }
            }
            let matching = try fixture.store.readNow { try $0.search(query.text, limit: 1_000_000) }.count
            progress("  '\(query.text)': median \(formatDuration(samples.median)), \(matching) matching documents")
            return (query, samples, matching)
        }
    }
}
