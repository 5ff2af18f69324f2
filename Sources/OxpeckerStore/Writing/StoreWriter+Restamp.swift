import GRDB
import OxpeckerProtocol

/// What ``StoreWriter/recoverClock(serverOffsetMillis:allowanceMillis:)`` did.
public struct ClockRecoveryReport: Sendable, Hashable {
    /// How the recovery ended.
    public enum Outcome: Sendable, Hashable {
        /// Nothing was stamped beyond the server's allowance: nothing changed.
        case upToDate
        /// The changes below got new stamps (possibly none: then only the clock moved back).
        case restamped
        /// A stamp the store keeps and may not change (another replica's, or one the
        /// server has) is itself beyond the allowance, so restamping cannot help:
        /// nothing changed. The server's clock is probably behind.
        case blocked(by: HybridTimestamp)
    }

    /// How the recovery ended.
    public var outcome: Outcome
    /// How many unsent outbox changes got new stamps.
    public var restamped = 0
    /// Their numbers, first to last (they are consecutive in the outbox).
    public var numbers: ClosedRange<Int64>?
    /// How far back the stamps moved, in milliseconds: the least and the most.
    public var shiftMillis: ClosedRange<Int64>?
    /// State rows and observed lists that carried a restamped stamp and were rewritten with it.
    public var rewrittenRows = 0
    /// The clock's last stamp before the recovery.
    public var clockBefore: HybridTimestamp?
    /// The clock's last stamp after it (as before unless the outcome is ``Outcome/restamped``).
    public var clockAfter: HybridTimestamp?

    /// Whether the store changed.
    public var changedAnything: Bool { outcome == .restamped }
}

extension CustomerStore {
    /// The wall clock that stamps this store's changes (``StoreOptions/clock``), which a
    /// sync compares with the server's.
    public var wallClock: WallClock { options.clock }
}

extension StoreWriter {
    /// Every column of the store that holds one hybrid timestamp, declared once: the
    /// recovery rewrites each, and takes the greatest of the others as the floor.
    private static let stampColumns: [(table: String, column: String)] = [
        ("outbox", "hlc"), ("customer", "hlc"), ("field_value", "hlc"), ("set_element", "tag"), ("set_element", "removed_hlc"),
        ("note", "hlc"), ("note_revision", "hlc"), ("note_redaction", "hlc"), ("consent_event", "hlc"), ("life_event", "hlc"),
        ("contact", "hlc"), ("guarded_write", "hlc"), ("erased_customer", "hlc"),
    ]
    /// Every column that holds a JSON array of hybrid timestamps (what a change observed).
    private static let observedColumns: [(table: String, column: String)] = [
        ("outbox", "observed"), ("consent_event", "observed"), ("guarded_write", "observed"),
    ]

    /// Gets a store whose clock ran ahead syncing again once the clock is fixed, in this
    /// transaction: the unsent outbox changes stamped beyond the server's allowance get new
    /// stamps from the server's time (``ClockRecovery``), and so does every state row and
    /// observed list that carries one of those stamps; the clock moves back to the last
    /// new stamp. Numbers, order and causal context stay: new stamps strictly increase in
    /// outbox order and are above every stamp the store keeps, and a change that observed a
    /// restamped one names its new stamp.
    ///
    /// Only unsent changes move: a change stamped beyond the allowance now was beyond it at
    /// every earlier push too (the server's clock only moves on), so the server refused it
    /// (`clock_skew` is never stored) and holds nothing under its number.
    ///
    /// ```swift
    /// let report = try await store.write { try $0.recoverClock(serverOffsetMillis: offset, allowanceMillis: 300_000) }
    /// ```
    ///
    /// - Parameters:
    ///   - serverOffsetMillis: the server's clock minus this store's clock, measured at the handshake.
    ///   - allowanceMillis: how far ahead of its clock the server accepts a stamp (`max_clock_skew_ms`).
    public func recoverClock(serverOffsetMillis: Int64, allowanceMillis: Int64) throws -> ClockRecoveryReport {
        let (serverMillis, overflow) = now().millisecondsSince1970.addingReportingOverflow(serverOffsetMillis)
        let before = clockLast
        var report = ClockRecoveryReport(outcome: .upToDate, clockBefore: before, clockAfter: before)
        let limit = ClockRecovery.limit(serverMillis: serverMillis, allowanceMillis: allowanceMillis)
        guard !overflow, serverMillis >= 0, limit < HybridTimestamp.maximumWallMillis else { return report }

        let first = try Int64.fetchOne(
            db, sql: "SELECT min(number) FROM outbox WHERE substr(hlc, 1, 15) > ?", arguments: [Self.wallText(limit)])
        var ahead: [(number: Int64, stamp: HybridTimestamp)] = []
        if let first {
            for row in try Row.fetchAll(db, sql: "SELECT number, hlc FROM outbox WHERE number >= ? ORDER BY number", arguments: [first]) {
                let stamp = try HybridTimestamp(parsing: row[1] as String)
                guard stamp.replica == replica else {
                    throw StoreError.invalidInput(.invalidValue(field: "outbox", reason: "change \(row[0] as Int64) is stamped by another replica (\(stamp))"))
                }
                ahead.append((row[0], stamp))
            }
        }
        let clockAhead = before.map { ClockRecovery.isAhead($0, serverMillis: serverMillis, allowanceMillis: allowanceMillis) } ?? false
        guard !ahead.isEmpty || clockAhead else { return report }

        // The stamps that move, looked up by every statement below; temporary, so gone with the transaction.
        try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS restamp_map (old TEXT PRIMARY KEY NOT NULL, new TEXT) WITHOUT ROWID")
        try db.execute(sql: "DELETE FROM temp.restamp_map")  // left over only by a caller that went on after an error
        let insert = try db.makeStatement(sql: "INSERT INTO temp.restamp_map (old) VALUES (?)")
        for (_, stamp) in ahead { try insert.execute(arguments: [stamp.description]) }
        let kept = try keptMaximum()

        let plan = ClockRecovery.plan(
            restamping: ahead.map(\.stamp), keptMaximum: kept, clockLast: before, serverMillis: serverMillis,
            allowanceMillis: allowanceMillis, replica: replica)
        switch plan {
        case .upToDate:
            break
        case .blocked(let stamp):
            report.outcome = .blocked(by: stamp)
        case .restamp(let replacements, let last):
            let fill = try db.makeStatement(sql: "UPDATE temp.restamp_map SET new = ? WHERE old = ?")
            for replacement in replacements { try fill.execute(arguments: [replacement.new.description, replacement.old.description]) }
            report.rewrittenRows = try rewriteStamps()
            resetClock(last: last)
            report.outcome = .restamped
            report.restamped = replacements.count
            report.clockAfter = last
            if let firstAhead = ahead.first, let lastAhead = ahead.last { report.numbers = firstAhead.number...lastAhead.number }
            let shifts = replacements.map(\.shiftMillis)
            if let least = shifts.min(), let most = shifts.max() { report.shiftMillis = least...most }
        }
        try db.execute(sql: "DROP TABLE temp.restamp_map")
        return report
    }

    /// The greatest stamp the store keeps outside `temp.restamp_map`.
    private func keptMaximum() throws -> HybridTimestamp? {
        var texts: [String] = []
        for (table, column) in Self.stampColumns {
            let sql = "SELECT max(\(column)) FROM \(table) WHERE \(column) NOT IN (SELECT old FROM temp.restamp_map)"
            if let text = try String.fetchOne(db, sql: sql) { texts.append(text) }
        }
        for (table, column) in Self.observedColumns {
            let sql = """
                SELECT max(j.value) FROM \(table), json_each(\(table).\(column)) AS j
                WHERE \(table).\(column) IS NOT NULL AND j.value NOT IN (SELECT old FROM temp.restamp_map)
                """
            if let text = try String.fetchOne(db, sql: sql) { texts.append(text) }
        }
        // The fixed-width text form orders like the stamps.
        return try texts.max().map { try HybridTimestamp(parsing: $0) }
    }

    /// Replaces every stamp of `temp.restamp_map` by its new one, everywhere; returns the rows
    /// rewritten outside the outbox's own stamps.
    private func rewriteStamps() throws -> Int {
        var rewritten = 0
        for (table, column) in Self.stampColumns {
            try db.execute(
                sql: """
                    UPDATE \(table) SET \(column) = (SELECT new FROM temp.restamp_map WHERE old = \(table).\(column))
                    WHERE \(column) IN (SELECT old FROM temp.restamp_map)
                    """)
            if !(table == "outbox" && column == "hlc") { rewritten += db.changesCount }
        }
        for (table, column) in Self.observedColumns {
            // json_each walks the array in order: the list keeps its order (and stays sorted, as
            // every new stamp is above every stamp kept).
            try db.execute(
                sql: """
                    UPDATE \(table) SET \(column) = (
                        SELECT json_group_array(coalesce((SELECT new FROM temp.restamp_map WHERE old = j.value), j.value))
                        FROM json_each(\(table).\(column)) AS j)
                    WHERE \(column) IS NOT NULL
                      AND EXISTS (SELECT 1 FROM json_each(\(table).\(column)) AS j WHERE j.value IN (SELECT old FROM temp.restamp_map))
                    """)
            rewritten += db.changesCount
        }
        return rewritten
    }

    /// `wallMillis` as the 15 digits that begin a stamp's text.
    private static func wallText(_ wallMillis: Int64) -> String {
        let digits = String(max(wallMillis, 0))
        return String(repeating: "0", count: max(0, 15 - digits.count)) + digits
    }
}
