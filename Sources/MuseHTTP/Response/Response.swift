import HTTPTypes
import NIOCore

/// What a handler answers: status, header fields and a body that is either whole or streamed.
public struct Response: Sendable {
    public var status: HTTPResponse.Status
    public var headerFields: HTTPFields
    public var body: ResponseBody

    public init(status: HTTPResponse.Status, headerFields: HTTPFields = [:], body: ResponseBody = .empty) {
        self.status = status
        self.headerFields = headerFields
        self.body = body
    }

    /// A JSON response with the value encoded in the wire format.
    public static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        return Response(status: status, headerFields: fields, body: .buffer(try JSONBody.encode(value)))
    }

    /// A response from bytes already encoded, with their content type.
    public static func bytes(_ buffer: ByteBuffer, contentType: String, status: HTTPResponse.Status = .ok) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = contentType
        return Response(status: status, headerFields: fields, body: .buffer(buffer))
    }
}

/// A response body: nothing, one buffer, or a producer that writes with back-pressure.
public enum ResponseBody: Sendable {
    case empty
    case buffer(ByteBuffer)
    /// Streamed with chunked encoding; each write waits until the previous bytes are on the socket.
    case stream(@Sendable (ResponseBodyWriter) async throws -> Void)
    /// Streamed like `stream`, of a length known before the first byte (a file): sent with
    /// `Content-Length`. A producer that writes another count of bytes ends the connection.
    case sized(Int, @Sendable (ResponseBodyWriter) async throws -> Void)
}
