import Foundation
import HTTPTypes
import Hummingbird
import Logging
import OxpeckerProtocol

/// Gives every request an id (in the logs and the `Oxpecker-Request-Id` header)
/// and turns every failure into an error envelope with the code's status:
/// bad input is a 4xx with a machine-readable code, never a crash or a bare 500.
struct ErrorEnvelopeMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let requestID = "req-" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        var context = context
        context.logger[metadataKey: "request_id"] = .string(requestID)
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let envelope = Self.envelope(for: error, requestID: requestID, path: request.uri.path)
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

    static func envelope(for error: any Error, requestID: String, path: String) -> ErrorEnvelope {
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
            return ErrorEnvelope(code: .notFound, message: "no endpoint \(path)", requestID: requestID)
        case let error as any HTTPResponseError where error.status == .methodNotAllowed:
            return ErrorEnvelope(code: .notFound, message: "no such method for \(path)", requestID: requestID)
        default:
            return ErrorEnvelope(code: .internalError, message: "the server failed; nothing was half-applied, retry", requestID: requestID)
        }
    }
}

/// Refuses requests whose `Oxpecker-Protocol` header names a version this server does not speak.
struct ProtocolVersionMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let version = request.headers[HTTPReply.protocolHeader].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        if let refusal = ProtocolVersion.check(version) {
            let said = request.headers[HTTPReply.protocolHeader].map { "version '\($0)'" } ?? "no Oxpecker-Protocol header"
            throw ServerError(
                refusal.code, "\(said): this server speaks versions \(refusal.supported.minimum)…\(refusal.supported.maximum)",
                supportedVersions: refusal.supported)
        }
        return try await next(request, context)
    }
}
