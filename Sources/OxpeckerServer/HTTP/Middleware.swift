import Foundation
import HTTPTypes
import Hummingbird
import Logging
import OxpeckerProtocol

/// Gives every request an id (in the logs and the `Oxpecker-Request-Id` header)
/// and turns every failure into an error envelope with the code's status:
/// bad input is a 4xx with a machine-readable code, never a crash or a bare 500.
///
/// The id is the client's `Oxpecker-Request-Id` when it sent one that obeys the
/// identifier rule (``RequestID/accepting(_:)``), so both sides log the same id;
/// otherwise the server makes one. A header that breaks the rule is never echoed.
struct ErrorEnvelopeMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let requestID = RequestID.accepting(request.headers[HTTPReply.requestIDHeader]) ?? RequestID.make()
        var context = context
        context.logger[metadataKey: "request_id"] = .string(requestID)
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let envelope = Self.envelope(for: error, requestID: requestID, method: request.method.rawValue, path: request.uri.path)
            if envelope.code == .internalError {
                context.logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            } else {
                context.logger.notice("request refused", metadata: ["code": "\(envelope.code.rawValue)", "path": "\(request.uri.path)"])
            }
            response = HTTPReply.json(
                WireCodec().encodeText(envelope), status: HTTPResponse.Status(code: envelope.code.httpStatus))
            if envelope.code.httpStatus == 401 {
                // RFC 6750: a 401 names the scheme it wants.
                response.headers[.wwwAuthenticate] = "Bearer realm=\"oxpecker\", error=\"invalid_token\""
            }
        }
        response.headers[HTTPReply.requestIDHeader] = requestID
        return response
    }

    /// The envelope of `error`. A route the router does not have, for this method or at all
    /// (Hummingbird answers a known path with another method as not found too), is `not_found`.
    static func envelope(for error: any Error, requestID: String, method: String, path: String) -> ErrorEnvelope {
        switch error {
        case let error as ServerError:
            return ErrorEnvelope(
                code: error.code, message: error.message, requestID: requestID, pointer: error.pointer,
                supportedVersions: error.supportedVersions)
        case let error as WireError:
            return error.envelope(requestID: requestID)
        case let error as any HTTPResponseError where error.status == .contentTooLarge:
            return ErrorEnvelope(code: .bodyTooLarge, message: "the body is larger than the server accepts", requestID: requestID)
        case let error as any HTTPResponseError where error.status == .notFound:
            return ErrorEnvelope(code: .notFound, message: "no endpoint \(method) \(path)", requestID: requestID)
        case let error as any HTTPResponseError where error.status == .methodNotAllowed:
            return ErrorEnvelope(code: .notFound, message: "no endpoint \(method) \(path)", requestID: requestID)
        default:
            return ErrorEnvelope(code: .internalError, message: "the server failed; nothing was half-applied, retry", requestID: requestID)
        }
    }
}

/// The id of a request: the client's, when well-formed, or one the server makes.
enum RequestID {
    /// `header` if it is an id the server takes from a client: the identifier rule
    /// (1 to 64 of `A-Z a-z 0-9 . _ : -`, ``IdentifierRule``); nil for anything else
    /// (absent, empty, too long, other characters, several headers joined by commas).
    static func accepting(_ header: String?) -> String? {
        guard let header, IdentifierRule.accepts(header) else { return nil }
        return header
    }

    /// A new id: `req-` and 16 random hex digits.
    static func make() -> String {
        "req-" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
    }
}

/// Refuses requests whose `Oxpecker-Protocol` header names a version this server does not speak.
///
/// A header that is absent or not a decimal integer is `upgrade_required` (a client
/// that speaks no version this server knows), like a version older than the oldest
/// supported; the header's text is never echoed, only a version it parsed to.
struct ProtocolVersionMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let header = request.headers[HTTPReply.protocolHeader]
        let version = request.protocolVersion
        if let refusal = ProtocolVersion.check(version) {
            let said = version.map { "version \($0)" }
                ?? (header == nil ? "no Oxpecker-Protocol header" : "an Oxpecker-Protocol header that is not an integer version")
            throw ServerError(
                refusal.code, "\(said): this server speaks versions \(refusal.supported.minimum)…\(refusal.supported.maximum)",
                supportedVersions: refusal.supported)
        }
        // The answer is in the client's version (checked above: one this server speaks), and says so.
        var response = try await next(request, context)
        if let version { response.headers[HTTPReply.protocolHeader] = String(version) }
        return response
    }
}

extension Request {
    /// The version the `Oxpecker-Protocol` header names; nil when absent or not an integer
    /// (past ``ProtocolVersionMiddleware``, always one this server speaks).
    var protocolVersion: Int? {
        headers[HTTPReply.protocolHeader].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    }
}
