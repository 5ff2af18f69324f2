import Logging
import OxpeckerProtocol

/// Sends protocol messages to one server: adds the protocol's headers, retries
/// what may pass (network errors, `408`, `429` with `Retry-After`, `5xx`) by the
/// retry policy, and turns every other refusal into a ``SyncError``.
///
/// Every request of the protocol is safe to repeat (push is idempotent by
/// `(replica, number)`, the others only read), so a retry always resends the
/// same bytes.
struct ProtocolSession: Sendable {
    /// The endpoints of the protocol.
    enum Endpoint: String, Sendable {
        case hello = "/v1/hello"
        case push = "/v1/push"
        case pull = "/v1/pull"
        case bootstrap = "/v1/bootstrap"
    }

    let server: String
    let transport: any SyncTransport
    let token: String
    let retry: RetryPolicy
    let logger: Logger
    /// The protocol version sent in the `Oxpecker-Protocol` header.
    var version: Int = ProtocolVersion.current
    /// How answers are decoded: the server's limits, with room for large answers.
    var codec: WireCodec
    /// The server's limits, known after the handshake.
    var serverLimits: WireLimits = .standard
    /// The server's replica id, known after the handshake.
    var serverReplica: ReplicaID?
    /// Waits between attempts (replaced in tests).
    var sleep: @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }

    /// Sends `message` to `endpoint` and decodes the answer as `Answer`.
    func send<Answer: WireMessage>(_ message: some WireMessage, to endpoint: Endpoint, expecting: Answer.Type) async throws -> Answer {
        let body = WireCodec().encode(message)
        let headers: [(name: String, value: String)] = [
            (ProtocolVersion.header, String(version)), ("Authorization", "Bearer \(token)"),
            ("Content-Type", "application/json"), ("Accept", "application/json"),
        ]
        let clock = ContinuousClock()
        let start = clock.now
        var attempt = 0
        while true {
            try Task.checkCancellation()
            attempt += 1
            let failure: Failure
            do {
                let response = try await transport.post(path: endpoint.rawValue, body: body, headers: headers)
                switch response.status {
                case 200..<300:
                    return try decode(Answer.self, response, endpoint: endpoint)
                case 408, 429, 500..<600:
                    failure = Failure(response: response, codec: codec)
                default:
                    throw SyncError.refused(refusal(response, endpoint: endpoint))
                }
            } catch let error as SyncError {
                throw error
            } catch let failure as TransportFailure where failure.isTLSFailure {
                throw SyncError.tlsFailed(server: server, reason: failure.description)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                failure = Failure(networkError: error)
            }
            let elapsed = clock.now - start
            let delay = retry.delay(afterAttempt: attempt, retryAfter: failure.retryAfter, random: Double.random(in: 0...1))
            guard attempt < retry.maximumAttempts, elapsed + delay <= retry.maximumElapsed else {
                logger.notice(
                    "giving up", metadata: ["endpoint": "\(endpoint.rawValue)", "attempts": "\(attempt)", "last": "\(failure.text)"])
                throw SyncError.unreachable(
                    UnreachableServer(
                        server: server, endpoint: endpoint.rawValue, attempts: attempt, elapsed: elapsed, lastFailure: failure.text,
                        lastStatus: failure.status, lastCode: failure.code, lastRequestID: failure.requestID))
            }
            logger.warning(
                "retrying",
                metadata: [
                    "endpoint": "\(endpoint.rawValue)", "attempt": "\(attempt)", "delay_ms": "\(Int(delay.seconds * 1000))",
                    "failure": "\(failure.text)",
                ])
            try await sleep(delay)
        }
    }

    private func decode<Answer: WireMessage>(_ type: Answer.Type, _ response: TransportResponse, endpoint: Endpoint) throws -> Answer {
        do {
            return try codec.decode(type, from: response.body)
        } catch {
            throw SyncError.invalidResponse(
                endpoint: endpoint.rawValue, detail: "\(error.code.rawValue): \(error.message)" + (error.pointer.isEmpty ? "" : " at \(error.pointer)"),
                requestID: response.header("Oxpecker-Request-Id"))
        }
    }

    private func refusal(_ response: TransportResponse, endpoint: Endpoint) -> ServerRefusal {
        let requestID = response.header("Oxpecker-Request-Id")
        if let envelope = try? codec.decode(ErrorEnvelope.self, from: response.body) {
            return ServerRefusal(
                endpoint: endpoint.rawValue, status: response.status, code: envelope.code, message: envelope.message,
                requestID: envelope.requestID, supportedVersions: envelope.supportedVersions)
        }
        let code = ErrorCode.catalog.first { $0.httpStatus == response.status && $0.use == .message }?.code
        return ServerRefusal(
            endpoint: endpoint.rawValue, status: response.status, code: code ?? ErrorCode(unchecked: "http_\(response.status)"),
            message: "HTTP \(response.status) without an error envelope", requestID: requestID)
    }

    /// One failed attempt that may be retried.
    private struct Failure {
        var text: String
        var status: Int?
        var code: ErrorCode?
        var requestID: String?
        var retryAfter: Duration?

        init(networkError error: any Error) {
            text = "\(error)"
        }

        init(response: TransportResponse, codec: WireCodec) {
            status = response.status
            requestID = response.header("Oxpecker-Request-Id")
            if let envelope = try? codec.decode(ErrorEnvelope.self, from: response.body) {
                code = envelope.code
                requestID = envelope.requestID
                text = "HTTP \(response.status) \(envelope.code.rawValue): \(envelope.message)"
            } else {
                text = "HTTP \(response.status)"
            }
            // Retry-After in seconds; an HTTP date is not worth a date parser here: the backoff applies.
            if let value = response.header("Retry-After"), let seconds = Int(value.trimmingCharacters(in: " \t")), seconds >= 0 {
                retryAfter = .seconds(seconds)
            }
        }
    }
}

extension String {
    fileprivate func trimmingCharacters(in characters: String) -> String {
        var slice = Substring(self)
        while let first = slice.first, characters.contains(first) { slice.removeFirst() }
        while let last = slice.last, characters.contains(last) { slice.removeLast() }
        return String(slice)
    }
}
