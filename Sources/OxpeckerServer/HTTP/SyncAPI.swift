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
    let authenticator: RequestAuthenticator
    let codec: WireCodec
    let metrics: ServerMetrics
    /// Cursors leave sealed for their device and come back opened: the storage sees only its own.
    let cursors: CursorSeal

    init(storage: any ServerStorage, configuration: ServerConfiguration, authenticator: RequestAuthenticator, metrics: ServerMetrics) {
        self.storage = storage
        self.configuration = configuration
        self.authenticator = authenticator
        self.metrics = metrics
        self.codec = WireCodec(limits: configuration.limits)
        self.cursors = CursorSeal(storage: storage)
    }

    func register(on router: Router<ServerRequestContext>) {
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

    func hello(_ request: Request, _ context: ServerRequestContext) async throws -> Response {
        let device = try await authenticate(request)
        let hello = try await decode(HelloRequest.self, request)
        if let refusal = ProtocolVersion.check(hello.protocolVersion) {
            throw ServerError(refusal.code, "protocol version \(hello.protocolVersion) is not served here", supportedVersions: refusal.supported)
        }
        context.logger.info("hello", metadata: ["device": "\(device.name)", "replica": "\(hello.replica)", "client": "\(hello.client)"])
        return HTTPReply.json(codec.encodeText(HelloResponse(
            protocolVersion: hello.protocolVersion, supportedVersions: ProtocolVersion.supported, serverReplica: storage.replica,
            serverTime: now, maximumClockSkewMillis: hello.protocolVersion >= 2 ? announcedClockSkew : nil, limits: configuration.limits)))
    }

    /// The clock-skew allowance as the handshake announces it, within the range the protocol gives it
    /// (an allowance above it, thousands of years, refuses nothing either way).
    private var announcedClockSkew: Int64 {
        min(max(configuration.maximumClockSkewMillis, HelloResponse.maximumClockSkewRange.lowerBound), HelloResponse.maximumClockSkewRange.upperBound)
    }

    func push(_ request: Request, _ context: ServerRequestContext) async throws -> Response {
        let device = try await authenticate(request)
        let push = try await decode(PushRequest.self, request)
        let response = try await storage.push(
            push, from: device,
            policy: PushPolicy(nowMillis: configuration.clock.now(), maximumClockSkewMillis: configuration.maximumClockSkewMillis))
        metrics.pushed(response)
        let accepted = response.results.filter { $0.outcome == .accepted }.count
        context.logger.info(
            "push", metadata: ["device": "\(device.name)", "changes": "\(push.items.count)", "accepted": "\(accepted)",
                               "acknowledged_through": "\(response.acknowledgedThrough)"])
        return HTTPReply.json(codec.encodeText(response))
    }

    func pull(_ request: Request, _ context: ServerRequestContext) async throws -> Response {
        let device = try await authenticate(request)
        let pull = try await decode(PullRequest.self, request)
        let limit = min(pull.limit, configuration.limits.maximumChangesPerPull)
        var after: SyncCursor?
        if let sealed = pull.after { after = try await cursors.open(sealed, for: device) }
        let page = try await storage.pull(after: after, limit: limit, for: device, replica: pull.replica, at: now)
        metrics.pulled(page.changes.count, by: device, cursor: page.nextCursor)
        let next = try await cursors.seal(page.nextCursor, for: device)
        // The stored bodies are canonical already: splice them, keys in canonical order.
        var text = "{\"changes\":[" + page.changes.joined(separator: ",") + "],\"has_more\":" + (page.hasMore ? "true" : "false")
        text += ",\"next_cursor\":\"" + next.rawValue + "\",\"purges\":"
        text += JSONValue.array(page.purges.map(\.wireJSON)).canonicalText + "}"
        context.logger.debug(
            "pull", metadata: ["device": "\(device.name)", "changes": "\(page.changes.count)", "purges": "\(page.purges.count)"])
        return HTTPReply.json(text)
    }

    func bootstrap(_ request: Request, _ context: ServerRequestContext) async throws -> Response {
        let device = try await authenticate(request)
        let bootstrap = try await decode(BootstrapRequest.self, request)
        let limit = min(bootstrap.limit, configuration.limits.maximumCustomersPerPage)
        var from: SyncCursor?
        if let sealed = bootstrap.page { from = try await cursors.open(sealed, for: device) }
        let page = try await storage.snapshot(page: from, limit: limit, for: device, replica: bootstrap.replica, at: now)
        metrics.bootstrapped(page.customers.count, by: device, cursor: page.resumeCursor)
        // Version 3 sends each customer's merged state; versions 1 and 2 the stored changes that make it up.
        let asState = (request.protocolVersion ?? ProtocolVersion.current) >= SnapshotForm.stateVersion
        var text = "{\"customers\":["
        for (index, customer) in page.customers.enumerated() {
            if index > 0 { text += "," }
            text += asState ? try SnapshotForm.stateJSON(of: customer, codec: codec) : SnapshotForm.changesJSON(of: customer)
        }
        text += "]"
        if let next = page.nextPage {
            text += ",\"next_page\":\"" + (try await cursors.seal(next, for: device)).rawValue + "\""
        }
        text += ",\"resume_cursor\":\"" + (try await cursors.seal(page.resumeCursor, for: device)).rawValue + "\"}"
        context.logger.info("bootstrap page", metadata: ["device": "\(device.name)", "customers": "\(page.customers.count)"])
        return HTTPReply.json(text)
    }

    /// The device of the request's credential, or a refusal (see ``RequestAuthenticator``).
    private func authenticate(_ request: Request) async throws -> DeviceIdentity {
        try await authenticator.device(for: request)
    }

    private func decode<Message: WireMessage>(_ type: Message.Type, _ request: Request) async throws -> Message {
        if let contentType = request.headers[.contentType], !contentType.lowercased().hasPrefix("application/json") {
            // The header is not echoed: it is the client's text, unchecked.
            throw ServerError(.unsupportedMediaType, "the body must be sent with Content-Type: application/json")
        }
        let body = try await request.body.collect(upTo: configuration.limits.maximumBodyBytes)
        return try codec.decode(type, from: body.readableBytesView)
    }
}
