import Foundation
import OxpeckerSync
import Synchronization

/// A ``SyncTransport`` in front of the real HTTP one that injects faults by a
/// script: drop a request before it leaves, lose the answer of one the server
/// did process, or answer with a status of its own. It records every request.
final class FaultyTransport: SyncTransport {
    /// What to do with one request.
    enum Fault: Sendable {
        /// Fail as a network error without sending.
        case dropRequest
        /// Send it (the server processes it), then fail as if the connection broke before the answer.
        case loseAnswer
        /// Do not send it; answer with this status, an error envelope body and maybe `Retry-After`.
        case answer(status: Int, code: String, retryAfter: String?)
        /// Fail every request from now on with a refusal that is not retried.
        case refuse(status: Int, code: String)
    }

    /// One request as sent.
    struct Sent: Sendable {
        let path: String
        let body: [UInt8]
        let fault: Fault?
    }

    private struct State {
        var sent: [Sent] = []
        var counts: [String: Int] = [:]
    }

    private let inner: any SyncTransport
    private let script: @Sendable (_ path: String, _ index: Int) -> Fault?
    private let state = Mutex(State())

    /// `script(path, n)` decides the fate of the n-th request (from 0) to `path`.
    init(_ inner: any SyncTransport, script: @escaping @Sendable (_ path: String, _ index: Int) -> Fault?) {
        self.inner = inner
        self.script = script
    }

    /// Every request so far.
    var sent: [Sent] { state.withLock { $0.sent } }

    func post(path: String, body: [UInt8], headers: [(name: String, value: String)]) async throws -> TransportResponse {
        let index = state.withLock { state in
            let index = state.counts[path, default: 0]
            state.counts[path] = index + 1
            return index
        }
        let fault = script(path, index)
        state.withLock { $0.sent.append(Sent(path: path, body: body, fault: fault)) }
        switch fault {
        case nil:
            return try await inner.post(path: path, body: body, headers: headers)
        case .dropRequest:
            throw URLError(.networkConnectionLost)
        case .loseAnswer:
            _ = try await inner.post(path: path, body: body, headers: headers)
            throw URLError(.networkConnectionLost)
        case .refuse(let status, let code):
            return Self.envelope(status: status, code: code, retryAfter: nil)
        case .answer(let status, let code, let retryAfter):
            return Self.envelope(status: status, code: code, retryAfter: retryAfter)
        }
    }

    private static func envelope(status: Int, code: String, retryAfter: String?) -> TransportResponse {
            let envelope = #"{"code":"\#(code)","message":"injected by the test","request_id":"req-test"}"#
            var headers = ["Content-Type": "application/json"]
            if let retryAfter { headers["Retry-After"] = retryAfter }
            return TransportResponse(status: status, headers: headers, body: Array(envelope.utf8))
    }
}
