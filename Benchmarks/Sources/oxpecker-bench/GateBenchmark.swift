import Foundation
import GRDB
import GRDBSQLite
import OxpeckerProtocol
import OxpeckerStore

/// Figure 5: the contact gate (`CustomerStore.mayContact`), asked before every proactive
/// message, on the read fixture, against the floor: one raw SQLite point lookup (a
/// prepared statement on an open connection, C API bind/step/reset) of a customer's
/// field in the same file. Calls are timed one by one, gate and raw interleaved per run.
enum GateBenchmark {
    struct Result {
        let gate: Samples
        let gateInOneRead: Samples
        let raw: Samples
        let withLimits: Int
    }

    static func run(in fixture: Fixture, runs: Int, callsPerRun: Int, progress: (String) -> Void) throws -> Result {
        var rng = SeededGenerator(seed: 5)
        // Half of the customers asked about have quiet hours and a budget, so every check runs on them.
        let limited = (0..<min(callsPerRun, fixture.customers.count)).map { _ in fixture.customers.randomElement(using: &rng)! }
        let hours = try QuietHours(input: "21:00-08:00 Europe/Prague", field: "quiet_hours")
        let budget = try ContactBudget(input: "5/month", field: "contact_budget")
        try fixture.store.writeNow { writer in
            for id in limited.prefix(limited.count / 2) {
                try writer.set(.quietHours, to: hours, of: id)
                try writer.set(.contactBudget, to: budget, of: id)
            }
        }
        let now = Instant(millisecondsSince1970: WallClock.system.now())
        func ask(_ id: CustomerID) throws -> ContactDecision {
            try fixture.store.mayContact(id, on: .email, for: "marketing", topic: "mortgage rate offer", at: now)
        }
        // A sanity check on what is asked: consent, the budget and quiet hours apply (every check answers; these must not say "does not apply").
        let sample = try ask(limited[0])
        guard [GateReason.Check.consent, .budget, .quietHours].allSatisfy({ sample.reason(for: $0).verdict != .notApplicable }) else {
            throw BenchmarkError.check("the gate's answer skips checks: \(sample.reasons.map { "\($0.check.rawValue) \($0.verdict.rawValue)" })")
        }

        let raw = try DatabaseQueue(path: fixture.path, configuration: readOnly)
        defer { try? raw.close() }
        var gate = Samples(), inOneRead = Samples(), floor = Samples()
        for _ in 0..<min(1000, callsPerRun) { _ = try ask(fixture.customers.randomElement(using: &rng)!) }  // warm-up
        for run in 0..<runs {
            let ids = (0..<callsPerRun).map { index in index % 2 == 0 ? limited[index % limited.count] : fixture.customers.randomElement(using: &rng)! }
            gate.startRun()
            for id in ids { gate.add(try timed { try ask(id) }.1) }
            floor.startRun()
            try raw.inDatabase { db in try rawLookups(ids, in: db).forEach { floor.add($0) } }
            inOneRead.startRun()
            let times = try fixture.store.readNow { reader in
                try ids.map { id in
                    try timed { try reader.mayContact(id, on: .email, for: "marketing", topic: "mortgage rate offer", at: now) }.1
                }
            }
            times.forEach { inOneRead.add($0) }
            progress(
                "  run \(run + 1)/\(runs): gate median \(formatDuration(Samples.percentile(gate.runs.last!, 0.5))), "
                    + "raw point lookup \(formatDuration(Samples.percentile(floor.runs.last!, 0.5)))")
        }
        return Result(gate: gate, gateInOneRead: inOneRead, raw: floor, withLimits: limited.count / 2)
    }

    private static var readOnly: Configuration {
        var configuration = Configuration()
        configuration.readonly = true
        return configuration
    }

    /// One prepared point lookup per customer, each timed alone.
    private static func rawLookups(_ ids: [CustomerID], in db: Database) throws -> [Double] {
        let connection = db.sqliteConnection
        var statement: OpaquePointer?
        let sql = "SELECT value FROM field_value WHERE customer_id = ? AND field = 'stage'"
        guard sqlite3_prepare_v2(connection, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw BenchmarkError.sqlite(String(cString: sqlite3_errmsg(connection)))
        }
        defer { sqlite3_finalize(statement) }
        var found = 0
        let times = ids.map { id in
            timed {
                sqlite3_bind_text(statement, 1, id.rawValue, -1, sqliteTransient)
                if sqlite3_step(statement) == SQLITE_ROW, sqlite3_column_text(statement, 0) != nil { found += 1 }
                sqlite3_reset(statement)
            }.1
        }
        guard found == ids.count else { throw BenchmarkError.check("raw lookups found \(found) of \(ids.count) stages") }
        return times
    }
}

extension Report {
    mutating func addGate(_ result: GateBenchmark.Result, customers: Int) {
        let gate = result.gate.median, raw = result.raw.median
        let (low, high) = result.gate.range
        rows.append(
            Row(
                figure: "Contact gate (may-contact), \(customers / 1000)k customers",
                median: formatDuration(gate), range: "\(formatDuration(low))–\(formatDuration(high))",
                baseline: "raw SQLite point lookup \(formatDuration(raw))", ratio: format(gate / raw, digits: 1) + "×",
                goal: "< 50 µs", met: gate < 50e-6 ? "yes" : "no"))
        details.append(
            "Gate: \(result.gate.all.count) calls of `CustomerStore.mayContact(_:on:for:topic:at:)` (email, marketing, with a topic), "
                + "half of them on \(result.withLimits) customers with quiet hours and a budget; p90 \(formatDuration(result.gate.percentile(0.9))), "
                + "p99 \(formatDuration(result.gate.percentile(0.99))); inside one read (no `readNow` per call): median "
                + "\(formatDuration(result.gateInOneRead.median)); the baseline is one prepared `SELECT value FROM field_value "
                + "WHERE customer_id = ? AND field = 'stage'` (C API, open connection), timed alone per customer")
    }
}
