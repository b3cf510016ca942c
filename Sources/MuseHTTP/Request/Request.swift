import HTTPTypes
import NIOCore

/// One HTTP request as a handler sees it: head, collected body, path parameters and query.
public struct Request: Sendable {
    public var head: HTTPRequest
    /// The body, collected up to the route's size limit (empty on a streaming route).
    public var body: ByteBuffer
    /// The body as it arrives, on a route registered with `streaming: true`; nil on others.
    public var bodyStream: RequestBodyStream?
    /// Values of the route's `{param}` segments.
    public var parameters: Parameters
    /// The path without the query string.
    public var path: Substring
    public var query: QueryParameters

    public init(head: HTTPRequest, body: ByteBuffer = ByteBuffer(), bodyStream: RequestBodyStream? = nil, parameters: Parameters = Parameters()) {
        self.head = head
        self.body = body
        self.bodyStream = bodyStream
        self.parameters = parameters
        let target = head.path ?? "/"
        if let q = target.firstIndex(of: "?") {
            path = target[..<q]
            query = QueryParameters(target[target.index(after: q)...])
        } else {
            path = target[...]
            query = QueryParameters("")
        }
    }

    public var method: HTTPRequest.Method { head.method }
}
