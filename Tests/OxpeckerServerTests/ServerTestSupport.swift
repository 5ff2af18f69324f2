import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import OxpeckerProtocol
import OxpeckerServer
import OxpeckerStore
import Synchronization
import Testing

/// A server on a fresh database of `backend`, driven in-process, with a token and a settable clock.
struct ServerHarness: Sendable {
    /// The SQLite data directory (the PostgreSQL backend leaves it empty).
    let folder: URL
    let database: TestDatabase
    let storage: any ServerStorage
    let configuration: ServerConfiguration
    let token: String

    static func make(_ backend: ServerBackend = .sqlite, limits: WireLimits = .standard) async throws -> ServerHarness {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("oxpecker-server-test-\(UUID().uuidString)")
        let database = try await TestDatabase.make(backend, dataDirectory: folder.path)
        let clockValue = ClockBox(1_764_000_000_000)
        let clock = WallClock { clockValue.now }
        let storage = try await database.openStorage(clock: clock)
        let token = try await storage.createToken(name: "laptop-1", scopes: [testScope], expiresAt: nil, now: Instant(millisecondsSince1970: clock.now()))
        let configuration = ServerConfiguration(port: 0, dataDirectory: folder.path, limits: limits, clock: clock)
        return ServerHarness(folder: folder, database: database, storage: storage, configuration: configuration, token: token.secret)
    }

    func test(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = try await buildApplication(configuration: configuration, storage: storage)
        try await app.test(.router) { client in try await body(client) }
    }

    /// Closes the storage, drops a PostgreSQL database, removes the folder (from a `defer`).
    func remove() {
        database.removeLater(closing: [storage])
        try? FileManager.default.removeItem(at: folder)
    }
}

/// A clock value shared with the server under test.
final class ClockBox: Sendable {
    private let value: Mutex<Int64>
    init(_ start: Int64) { value = Mutex(start) }
    var now: Int64 { value.withLock { $0 } }
}

extension TestClientProtocol {
    /// POSTs `body` to `path` with the protocol header and `token` (nil: none).
    func post(_ path: String, _ body: String, token: String?, version: String? = "1") async throws -> TestResponse {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if let version { headers[HTTPField.Name("Oxpecker-Protocol")!] = version }
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
    var json: JSONValue { (try? JSONValue(parsing: text)) ?? .null }
}

/// A change of replica `replica`, number `number`, setting a profile field.
func fieldChange(
    _ number: Int64, replica: ReplicaID = "r-1", customer: CustomerID = "c-1", field: String = "preferred_name",
    value: JSONValue = "Jana", wall: Int64 = 1_764_000_000_000, kind: MergeKind = .register
) throws -> Change {
    Change(
        replica: replica, number: number, hlc: try HybridTimestamp(wallMillis: wall + number, counter: 0, replica: replica),
        customer: customer, entity: .profile, field: field, record: nil, kind: kind, value: value)
}

/// The scope the test servers' default token grants.
let testScope = "branch:HN01"

/// A change of replica `replica`, number `number`, adding `customer` to `scope`:
/// a customer's first change, without which the server takes nothing of it.
func scopeChange(
    _ number: Int64, replica: ReplicaID = "r-1", customer: CustomerID = "c-1", scope: String = testScope, op: String = "add",
    observed: [HybridTimestamp] = [], wall: Int64 = 1_764_000_000_000
) throws -> Change {
    Change(
        replica: replica, number: number, hlc: try HybridTimestamp(wallMillis: wall + number, counter: 0, replica: replica),
        customer: customer, entity: .profile, field: "scopes", record: nil, kind: .addWinsSet,
        value: ["element": .string(scope), "op": .string(op)], observed: observed)
}

func pushBody(_ changes: [Change], replica: ReplicaID = "r-1") -> String {
    WireCodec().encodeText(PushRequest(replica: replica, changes: changes))
}
