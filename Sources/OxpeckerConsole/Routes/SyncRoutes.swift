import HTTPTypes
import Hummingbird
import Logging
import OxpeckerProtocol
import OxpeckerStore
import OxpeckerSync
import Synchronization

extension ConsoleRoutes {
    /// `GET /sync`: when this store last synced and with which server, the changes waiting, and what the last sync did.
    @Sendable func syncPage(_ request: Request, context: ConsoleRequestContext) async throws -> Response {
        try await renderSync(context: context)
    }

    /// `POST /sync`: syncs now, with the same client and settings as `oxpecker sync`.
    @Sendable func sync(_ request: Request, context: ConsoleRequestContext) async throws -> Response {
        guard let settings = configuration.sync else {
            return try await renderSync(
                context: context, status: .conflict,
                problem: "This console was started without a device token: start it with --token TOKEN (or set OXPECKER_TOKEN) to sync here.")
        }
        guard syncState.begin() else {
            return try await renderSync(context: context, status: .conflict, problem: "A sync is running already; wait for it to end.")
        }
        defer { syncState.end() }
        let started = now
        let remembered = try await store.read { try $0.syncCheckpoint() }.server
        guard let server = [settings.server, remembered].compactMap({ $0 }).first(where: { !$0.isEmpty }) else {
            return try await renderSync(
                context: context, status: .conflict, problem: "No server: start the console with --server URL (or set OXPECKER_SERVER).")
        }
        var syncConfiguration = SyncConfiguration(server: server, token: settings.token, client: settings.client, retry: settings.retry)
        syncConfiguration.certificateAuthorityFile = settings.certificateAuthorityFile
        do {
            let client = try SyncClient(store: store, configuration: syncConfiguration, logger: syncLogger)
            let summary = try await client.sync()
            syncState.record(LastSync(at: started, server: server, lines: SyncText.lines(of: summary), failed: false))
            return Self.seeOther("/sync")
        } catch let error as SyncError {
            syncState.record(LastSync(at: started, server: server, lines: ["sync failed: \(error.description)"], failed: true))
            return try await renderSync(context: context, status: .badGateway, problem: "sync failed: \(error.description)")
        } catch {
            guard let explanation = Self.explanation(of: error) else { throw error }
            syncState.record(LastSync(at: started, server: server, lines: ["sync failed: \(explanation.message)"], failed: true))
            return try await renderSync(context: context, status: explanation.status, problem: "sync failed: \(explanation.message)")
        }
    }

    private var syncLogger: Logger {
        var logger = Logger(label: "oxpecker.console.sync")
        logger.logLevel = .warning
        return logger
    }

    func renderSync(context: ConsoleRequestContext, status: HTTPResponse.Status = .ok, problem: String? = nil) async throws -> Response {
        let csrf = context.csrfToken
        let last = syncState.last
        let canSync = configuration.sync != nil
        var page = try await store.read { reader in try SyncPage.load(from: reader, csrf: csrf, last: last, canSync: canSync) }
        page.problem = problem
        return renderer.page("sync", page, status: status)
    }
}

/// What the last sync from this console did, for the sync page.
struct LastSync: Sendable {
    let at: Instant
    let server: String
    let lines: [String]
    let failed: Bool
}

/// The console's syncs: one at a time, and the last one's outcome (in memory: a restart forgets it,
/// the store keeps its own checkpoint and last sync time).
final class ConsoleSyncState: Sendable {
    private struct State {
        var running = false
        var last: LastSync?
    }

    private let state = Mutex(State())

    /// Starts a sync unless one runs; false if one does.
    func begin() -> Bool {
        state.withLock { state in
            guard !state.running else { return false }
            state.running = true
            return true
        }
    }

    func end() { state.withLock { $0.running = false } }

    func record(_ sync: LastSync) { state.withLock { $0.last = sync } }

    var last: LastSync? { state.withLock { $0.last } }
}

/// A sync's summary in the words `oxpecker sync` prints.
enum SyncText {
    static func lines(of summary: SyncSummary) -> [String] {
        var pushed = "pushed \(summary.pushed)"
        if summary.duplicates > 0 { pushed += " (\(summary.duplicates) already there)" }
        var lines = [
            "\(pushed), pulled \(summary.pulled), purged \(summary.purged), conflicts \(summary.conflicts), rejections \(summary.rejections.count)"
        ]
        if summary.bootstrappedCustomers > 0 { lines.append("bootstrap: \(summary.bootstrappedCustomers) customers") }
        for rejection in summary.rejections {
            lines.append("rejected: change \(rejection.number) (\(rejection.customer)): \(rejection.reason.rawValue): \(rejection.message)")
        }
        for purge in summary.purges {
            lines.append("purged: \(purge.customer) (\(purge.reason == .erased ? "erased by the bank" : "no longer in this device's scopes"))")
        }
        if summary.pending > 0 { lines.append("outbox: \(summary.pending) changes still waiting") }
        if summary.conflicts > 0 { lines.append("conflicts: \(summary.conflicts) to resolve") }
        return lines
    }
}
