import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import OxpeckerProtocol
import OxpeckerStore

/// The HTTP endpoints of the sync protocol (see `Protocol/`): small handlers
/// that read a message, call the storage, and write the answer.
struct SyncAPI: Sendable {
    let storage: any ServerStorage
    let configuration: ServerConfiguration
    let codec: WireCodec

    init(storage: any ServerStorage, configuration: ServerConfiguration) {
        self.storage = storage
        self.configuration = configuration
        self.codec = WireCodec(limits: configuration.limits)
    }

    func register(on router: Router<BasicRequestContext>) {
        router.get("/health") { _, _ in
            HTTPReply.json(#"{"status":"ok"}"#)
        }
        let v1 = router.group("v1").add(middleware: ProtocolVersionMiddleware())
        v1.post("hello") { request, context in try await hello(request, context) }
        v1.post("push") { request, context in try await push(request, context) }
        v1.post("pull") { request, context in try await pull(request, context) }
        v1.post("bootstrap") { request, context in try await bootstrap(request, context) }
    }

    private var now: Instant { Instant(millisecondsSince1970: configuration.clock.now()) }

    func hello(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let device = try await authenticate(request)
        let hello = try await decode(HelloRequest.self, request)
        if let refusal = ProtocolVersion.check(hello.protocolVersion) {
            throw ServerError(refusal.code, "protocol version \(hello.protocolVersion) is not served here", supportedVersions: refusal.supported)
        }
        context.logger.info("hello", metadata: ["device": "\(device.name)", "replica": "\(hello.replica)", "client": "\(hello.client)"])
        return HTTPReply.json(codec.encodeText(HelloResponse(
            protocolVersion: hello.protocolVersion, supportedVersions: ProtocolVersion.supported, serverReplica: storage.replica,
            serverTime: now, limits: configuration.limits)))
    }

    func push(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let device = try await authenticate(request)
        let push = try await decode(PushRequest.self, request)
        let response = try await storage.push(
            push, from: device,
            policy: PushPolicy(nowMillis: configuration.clock.now(), maximumClockSkewMillis: configuration.maximumClockSkewMillis))
        let accepted = response.results.filter { $0.outcome == .accepted }.count
        context.logger.info(
            "push", metadata: ["device": "\(device.name)", "changes": "\(push.items.count)", "accepted": "\(accepted)",
                               "acknowledged_through": "\(response.acknowledgedThrough)"])
        return HTTPReply.json(codec.encodeText(response))
    }

    func pull(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let device = try await authenticate(request)
        let pull = try await decode(PullRequest.self, request)
        let after = try pull.after.map { try LogCursor.position(of: $0) } ?? 0
        let limit = min(pull.limit, configuration.limits.maximumChangesPerPull)
        let page = try await storage.pull(after: after, limit: limit, for: device)
        // The stored bodies are canonical already: splice them, keys in canonical order.
        var text = "{\"changes\":[" + page.changes.joined(separator: ",") + "],\"has_more\":" + (page.hasMore ? "true" : "false")
        text += ",\"next_cursor\":\"" + LogCursor.cursor(for: page.nextPosition).rawValue + "\",\"purges\":[]}"
        context.logger.debug("pull", metadata: ["device": "\(device.name)", "after": "\(after)", "changes": "\(page.changes.count)"])
        return HTTPReply.json(text)
    }

    func bootstrap(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let device = try await authenticate(request)
        let bootstrap = try await decode(BootstrapRequest.self, request)
        let (position, after) = try bootstrap.page.map { try LogCursor.snapshotPage($0) } ?? (nil, nil)
        let limit = min(bootstrap.limit, configuration.limits.maximumCustomersPerPage)
        let page = try await storage.snapshot(at: position, after: after, limit: limit, for: device)
        var text = "{\"customers\":["
        for (index, customer) in page.customers.enumerated() {
            if index > 0 { text += "," }
            text += "{\"changes\":[" + customer.changes.joined(separator: ",") + "],\"customer\":"
            text += JSONValue.string(customer.customer.rawValue).canonicalText + ",\"scopes\":"
            text += JSONValue.array(customer.scopes.map { .string($0) }).canonicalText + "}"
        }
        text += "]"
        if let next = page.continueAfter {
            text += ",\"next_page\":\"" + LogCursor.snapshotCursor(position: page.position, after: next).rawValue + "\""
        }
        text += ",\"resume_cursor\":\"" + LogCursor.cursor(for: page.position).rawValue + "\"}"
        context.logger.info("bootstrap page", metadata: ["device": "\(device.name)", "customers": "\(page.customers.count)"])
        return HTTPReply.json(text)
    }

    /// The device of the request's bearer token, or `unauthorized`.
    private func authenticate(_ request: Request) async throws -> DeviceIdentity {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw ServerError(.unauthorized, "send a device token: Authorization: Bearer <token>")
        }
        let secret = String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
        guard let device = try await storage.device(forTokenHash: TokenSecret.hash(secret), at: now) else {
            throw ServerError(.unauthorized, "the token is unknown, expired or revoked")
        }
        return device
    }

    private func decode<Message: WireMessage>(_ type: Message.Type, _ request: Request) async throws -> Message {
        if let contentType = request.headers[.contentType], !contentType.lowercased().hasPrefix("application/json") {
            throw ServerError(.unsupportedMediaType, "send application/json, not \(contentType)")
        }
        let body = try await request.body.collect(upTo: configuration.limits.maximumBodyBytes)
        return try codec.decode(type, from: body.readableBytesView)
    }
}

/// Cursors and page tokens of this server: opaque to clients (`log.<position>`,
/// `snap.<position>.<customer>`), parsed only here.
enum LogCursor {
    static func cursor(for position: Int64) -> SyncCursor {
        SyncCursor("log.\(position)")!
    }

    static func position(of cursor: SyncCursor) throws -> Int64 {
        let text = cursor.rawValue
        guard text.hasPrefix("log."), let position = Int64(text.dropFirst(4)), position >= 0 else {
            throw ServerError(.cursorExpired, "this server does not know the cursor '\(text)'; bootstrap again")
        }
        return position
    }

    static func snapshotCursor(position: Int64, after customer: CustomerID) -> SyncCursor {
        SyncCursor("snap.\(position).\(customer.rawValue)")!
    }

    static func snapshotPage(_ cursor: SyncCursor) throws -> (Int64?, CustomerID?) {
        let parts = cursor.rawValue.split(separator: ".", maxSplits: 2)
        guard parts.count == 3, parts[0] == "snap", let position = Int64(parts[1]),
            let customer = CustomerID(rawValue: String(parts[2]))
        else { throw ServerError(.cursorExpired, "this server does not know the page '\(cursor.rawValue)'; start the bootstrap again") }
        return (position, customer)
    }
}
