import OxpeckerProtocol
import OxpeckerStore

/// The model of the sync page.
struct SyncPage {
    var title = "Sync"
    var csrf: String
    var problem: String?
    var server: String
    var lastSyncAt: String
    var waiting: Int
    var rejections: Int
    var parked: Int
    var canSync: Bool
    var last: Last?

    struct Last {
        let at: String
        let server: String
        let lines: [String]
        let failed: Bool
    }

    static func load(from reader: StoreReader, csrf: String, last: LastSync?, canSync: Bool) throws -> SyncPage {
        let checkpoint = try reader.syncCheckpoint()
        return SyncPage(
            csrf: csrf, server: checkpoint.server ?? "never synced", lastSyncAt: checkpoint.lastSyncAt.map { DisplayText.minute($0) } ?? "never",
            waiting: try reader.outboxCount(), rejections: try reader.pushRejections().count, parked: try reader.parkedChangeCount(),
            canSync: canSync,
            last: last.map { Last(at: DisplayText.minute($0.at), server: $0.server, lines: $0.lines, failed: $0.failed) })
    }
}
