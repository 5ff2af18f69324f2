import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import OxpeckerSync
import Synchronization
import Testing

/// A real HTTP proxy on a loopback port (Hummingbird over SwiftNIO) between
/// `oxpecker sync` and a real server, misbehaving by a seeded script: it delays
/// requests, delivers some twice at once, replays earlier pushes after later
/// ones (reordered, stale deliveries), and truncates or corrupts some answers
/// of requests the server did process.
final class FaultyProxy: Sendable {
    /// How often each fault happens, from 0 to 1.
    struct Faults: Sendable {
        var maximumDelayMillis = 30
        /// A push or pull sent twice, concurrently; the client gets the first answer.
        var duplicate = 0.3
        /// After a request, an earlier push is sent again.
        var replayEarlierPush = 0.3
        /// The answer cut in half (the server processed the request).
        var truncateAnswer = 0.1
        /// Bytes of the answer flipped (the server processed the request).
        var corruptAnswer = 0.05
    }

    /// What the proxy did, for the test's report.
    struct Tally: Sendable, CustomStringConvertible {
        var requests = 0, delayed = 0, duplicated = 0, replayed = 0, truncated = 0, corrupted = 0
        var description: String {
            "\(requests) requests: \(delayed) delayed, \(duplicated) duplicated, \(replayed) stale pushes replayed, \(truncated) answers truncated, \(corrupted) corrupted"
        }
    }

    private struct State {
        var random: SplitMix
        var earlierPushes: [(body: [UInt8], headers: [(name: String, value: String)])] = []
        var tally = Tally()
    }

    private let upstream: HTTPSyncTransport
    private let state: Mutex<State>
    /// Faults are injected only while this is on.
    let enabled = Mutex(true)
    private let faults: Faults

    init(upstream: String, seed: UInt64, faults: Faults = Faults()) throws {
        self.upstream = try HTTPSyncTransport(server: upstream)
        self.state = Mutex(State(random: SplitMix(seed: seed)))
        self.faults = faults
    }

    var tally: Tally { state.withLock { $0.tally } }

    /// Runs the proxy on a free port for the time of `body`, which gets the proxy's URL.
    func run(_ body: @Sendable (_ url: String) async throws -> Void) async throws {
        let router = Router()
        router.post("/v1/{endpoint}") { request, _ in try await self.forward(request) }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = try #require(client.port, "the proxy has no port")
            try await body("http://127.0.0.1:\(port)")
        }
    }

    private func forward(_ request: Request) async throws -> Response {
        let path = request.uri.path
        let body = Array(buffer: try await request.body.collect(upTo: 64 << 20))
        let headers = request.headers.map { (name: $0.name.canonicalName, value: $0.value) }
        let faulty = enabled.withLock { $0 }
        // Decide everything at once, under the lock, so that a seed replays the same script.
        let (delay, duplicate, replay, truncate, corrupt) = state.withLock { state in
            state.tally.requests += 1
            guard faulty else { return (0, false, [(body: [UInt8], headers: [(name: String, value: String)])](), false, false) }
            let delay = Int.random(in: 0...faults.maximumDelayMillis, using: &state.random)
            let duplicate = path != "/v1/hello" && chance(&state.random, faults.duplicate)
            var replay: [(body: [UInt8], headers: [(name: String, value: String)])] = []
            if !state.earlierPushes.isEmpty, chance(&state.random, faults.replayEarlierPush) {
                replay.append(state.earlierPushes.randomElement(using: &state.random)!)
            }
            if path == "/v1/push" { state.earlierPushes.append((body, headers)) }
            let truncate = chance(&state.random, faults.truncateAnswer)
            let corrupt = !truncate && chance(&state.random, faults.corruptAnswer)
            state.tally.delayed += delay > 0 ? 1 : 0
            state.tally.duplicated += duplicate ? 1 : 0
            state.tally.replayed += replay.count
            state.tally.truncated += truncate ? 1 : 0
            state.tally.corrupted += corrupt ? 1 : 0
            return (delay, duplicate, replay, truncate, corrupt)
        }
        if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
        var answer: TransportResponse
        if duplicate {
            async let twin = try? upstream.post(path: path, body: body, headers: headers)
            answer = try await upstream.post(path: path, body: body, headers: headers)
            _ = await twin
        } else {
            answer = try await upstream.post(path: path, body: body, headers: headers)
        }
        for stale in replay {
            _ = try? await upstream.post(path: "/v1/push", body: stale.body, headers: stale.headers)
        }
        if truncate { answer.body = Array(answer.body.prefix(answer.body.count / 2)) }
        if corrupt, !answer.body.isEmpty {
            for index in stride(from: answer.body.count / 3, to: answer.body.count, by: max(1, answer.body.count / 7)) {
                answer.body[index] ^= 0x5A
            }
        }
        var fields = HTTPFields()
        for (name, value) in answer.headers where name != "content-length" && name != "transfer-encoding" && name != "connection" {
            if let field = HTTPField.Name(name) { fields.append(HTTPField(name: field, value: value)) }
        }
        return Response(
            status: HTTPResponse.Status(code: answer.status), headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}

/// True with probability `p`.
private func chance(_ random: inout SplitMix, _ p: Double) -> Bool {
    Double.random(in: 0..<1, using: &random) < p
}
