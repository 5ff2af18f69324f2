import OxpeckerProtocol
import OxpeckerStore

extension SyncClient {
    /// The recovery of a device whose clock ran ahead (`Protocol/README.md`, "HLC rules"):
    /// before pushing, when the handshake shows unsent changes or the clock's last stamp
    /// beyond the server's time plus its allowance, and this device's clock itself is
    /// within the allowance, the store restamps those changes from the server's time and
    /// moves its clock back (``StoreWriter/recoverClock(serverOffsetMillis:allowanceMillis:)``),
    /// in one transaction. A device whose clock is still ahead beyond the allowance restamps
    /// nothing: its next changes would be stamped ahead again; it is told to fix its clock.
    ///
    /// - Returns: whether changes were restamped or the clock moved back.
    @discardableResult
    func recoverClockIfNeeded(_ hello: HelloResponse, offsetMillis: Int64, _ run: inout SyncRun) async throws -> Bool {
        // A version 1 server does not announce its allowance: nothing to recover against (it refuses with clock_skew as before).
        guard let allowance = hello.maximumClockSkewMillis else { return false }
        let deviceAhead = -offsetMillis
        if deviceAhead > allowance {
            run.summary.clockRecoveries.append(.deviceClockAhead(byMillis: deviceAhead, allowanceMillis: allowance))
            logger.error(
                "this device's clock is ahead of the server's by more than the server allows; changes made now are refused (clock_skew): fix the clock, then sync again",
                metadata: ["ahead_ms": "\(deviceAhead)", "allowance_ms": "\(allowance)"])
            return false
        }
        // Every stamp this store made is at most its clock's last one: when that is not
        // ahead, nothing is, and the sync takes no write lock for it.
        let serverMillis = store.wallClock.now() + offsetMillis
        let last = try await store.read { try $0.lastTimestamp() }
        guard let last, ClockRecovery.isAhead(last, serverMillis: serverMillis, allowanceMillis: allowance) else { return false }
        let report = try await store.write { writer in
            try writer.recoverClock(serverOffsetMillis: offsetMillis, allowanceMillis: allowance)
        }
        switch report.outcome {
        case .upToDate:
            return false
        case .restamped:
            run.summary.clockRecoveries.append(.restamped(report))
            logger.notice(
                "changes stamped ahead of the server's clock were restamped from the server's time",
                metadata: [
                    "restamped": "\(report.restamped)", "shift_ms": "\(report.shiftMillis.map { "\($0.lowerBound)…\($0.upperBound)" } ?? "0")",
                    "clock_before": "\(report.clockBefore.map(\.description) ?? "none")", "clock_after": "\(report.clockAfter.map(\.description) ?? "none")",
                ])
            return true
        case .blocked(let stamp):
            run.summary.clockRecoveries.append(.blocked(by: stamp, allowanceMillis: allowance))
            logger.error(
                "this store holds a stamp of another replica or of the server beyond the server's clock and allowance; nothing was restamped (is the server's clock behind?)",
                metadata: ["stamp": "\(stamp)", "allowance_ms": "\(allowance)"])
            return false
        }
    }

    /// When the push was answered `clock_skew` although the handshake showed nothing ahead
    /// (the server's instances disagree on the time, or its allowance changed), measures
    /// the server's clock again with a new handshake, recovers, and pushes once more.
    /// Those refusals are reported again only if the second push refuses them too.
    func recoverFromClockSkewRefusals(_ session: ProtocolSession, _ run: inout SyncRun) async throws {
        guard run.summary.rejections.contains(where: { $0.reason == .clockSkew }),
            !run.summary.clockRecoveries.contains(where: { if case .deviceClockAhead = $0 { true } else { false } })
        else { return }
        let (_, hello, offset) = try await handshake()
        guard try await recoverClockIfNeeded(hello, offsetMillis: offset, &run) else { return }
        // The changes refused for now are in the outbox still and are pushed again: their
        // first refusals give way to the second push's answers.
        run.summary.rejections.removeAll { !$0.permanent }
        try await pushOutbox(session, &run)
    }
}
