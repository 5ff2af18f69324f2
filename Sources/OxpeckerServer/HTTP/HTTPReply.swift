import HTTPTypes
import Hummingbird
import NIOCore
import OxpeckerProtocol

/// Builds the server's responses: JSON bodies with the protocol version header.
enum HTTPReply {
    static let protocolHeader = HTTPField.Name(ProtocolVersion.header)!
    static let requestIDHeader = HTTPField.Name("Oxpecker-Request-Id")!

    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[protocolHeader] = String(ProtocolVersion.current)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
