import HTTPTypes

/// Routes under one path prefix that share their access check: every route registered through
/// a group runs the group's filters, whatever path spelling reached it. Like Hummingbird's
/// `router.group(_:).add(middleware:)`, except that patterns are written whole
/// (`/v1/generations`, not `/generations`) so that a reader can grep for a route.
public struct RouteGroup: Sendable {
    let router: Router
    /// The prefix, e.g. `/v1`; every pattern of the group starts with it.
    public let prefix: String
    /// A name for the route table (`public`, `api`, `workers`).
    public let name: String
    let filters: [any HeadFilter]

    /// `streaming`: the handler reads the body from `Request.bodyStream` as it arrives (an
    /// upload written on to disk), instead of receiving it collected in memory.
    public func on(_ method: HTTPRequest.Method, _ pattern: String, maxBodyBytes: Int? = nil, streaming: Bool = false, _ handler: @escaping Handler) {
        precondition(prefix.isEmpty || pattern.hasPrefix(prefix + "/"), "route \(pattern) is outside its group's prefix \(prefix)")
        router.add(method, pattern, group: self, maxBodyBytes: maxBodyBytes, streaming: streaming, handler)
    }

    public func get(_ pattern: String, _ handler: @escaping Handler) { on(.get, pattern, handler) }
    public func post(_ pattern: String, maxBodyBytes: Int? = nil, streaming: Bool = false, _ handler: @escaping Handler) {
        on(.post, pattern, maxBodyBytes: maxBodyBytes, streaming: streaming, handler)
    }
    public func put(_ pattern: String, maxBodyBytes: Int? = nil, streaming: Bool = false, _ handler: @escaping Handler) {
        on(.put, pattern, maxBodyBytes: maxBodyBytes, streaming: streaming, handler)
    }
    public func delete(_ pattern: String, _ handler: @escaping Handler) { on(.delete, pattern, handler) }
}
