import HTTPTypes

/// A route's handler: decode, call a service, encode. Errors it throws become problem+json.
public typealias Handler = @Sendable (Request, RequestContext) async throws -> Response

/// One registered route. A class: a lookup hands out one reference, not copies of its fields.
public final class Route: Sendable {
    public let method: HTTPRequest.Method
    /// The pattern as registered, e.g. `/v1/generations/{id}`.
    public let pattern: String
    /// The name of the group it was registered through, which decides who may call it.
    public let group: String
    /// The largest body this route reads; `nil` takes the server's default.
    public let maxBodyBytes: Int?
    /// Whether the handler reads the body as it arrives (`Request.bodyStream`) instead of collected.
    public let streamsBody: Bool
    /// The group's access checks, run on the head before any body byte is read.
    let filters: [any HeadFilter]
    let handler: Handler

    init(
        method: HTTPRequest.Method, pattern: String, group: String, maxBodyBytes: Int?, streamsBody: Bool, filters: [any HeadFilter],
        handler: @escaping Handler
    ) {
        self.method = method
        self.pattern = pattern
        self.group = group
        self.maxBodyBytes = maxBodyBytes
        self.streamsBody = streamsBody
        self.filters = filters
        self.handler = handler
    }
}

/// Maps method and path to a route; builds once at start-up, then is read-only. Routes are
/// added only through groups (`group(_:name:filters:)`), so every route has its access checks.
public struct Router: Sendable {
    final class Methods: @unchecked Sendable {
        // Written only while routes are registered, before the server starts; read-only after.
        var routes: [HTTPRequest.Method: Route] = [:]
    }

    final class Table: @unchecked Sendable {
        // Written only while routes are registered, before the server starts; read-only after.
        var routes: [Route] = []
    }

    /// The outcome of a lookup.
    public enum Resolution: Sendable {
        case found(Route, Parameters)
        case methodNotAllowed(allow: [HTTPRequest.Method])
        case notFound
        /// The path is not in canonical form (see `RequestPath`).
        case invalidPath(String)
    }

    private let trie = PathTrie<Methods>()
    private let registered = Table()
    private var chain = FilterChain([])

    public init() {}

    /// Routes under `prefix` (`""` for the root) that run `filters` before anything else.
    public func group(_ prefix: String, name: String, filters: [any HeadFilter] = []) -> RouteGroup {
        RouteGroup(router: self, prefix: prefix, name: name, filters: filters)
    }

    func add(_ method: HTTPRequest.Method, _ pattern: String, group: RouteGroup, maxBodyBytes: Int?, streaming: Bool, _ handler: @escaping Handler) {
        let node = trie.node(for: pattern)
        let methods = node.value ?? Methods()
        precondition(methods.routes[method] == nil, "route \(method) \(pattern) registered twice")
        // GET and HEAD read no body: one that comes is refused on the head (413), not buffered.
        let limit = maxBodyBytes ?? ([.get, .head].contains(method) ? 0 : nil)
        let route = Route(
            method: method, pattern: pattern, group: group.name, maxBodyBytes: limit, streamsBody: streaming, filters: group.filters, handler: handler)
        methods.routes[method] = route
        node.value = methods
        registered.routes.append(route)
    }

    /// Every route, in registration order: the table an operator (and a test) can walk.
    public var routes: [Route] { registered.routes }

    /// The route table as text, a route a line: method, pattern, group.
    public var table: String {
        let width = registered.routes.map(\.pattern.count).max() ?? 0
        return registered.routes.map { route in
            let method = route.method.rawValue + String(repeating: " ", count: max(1, 8 - route.method.rawValue.count))
            return method + route.pattern + String(repeating: " ", count: width - route.pattern.count + 2) + route.group + "\n"
        }.joined()
    }

    /// A copy whose every handler, and every early answer, runs inside the filter chain.
    public func composed(with chain: FilterChain) -> Router {
        var copy = Router()
        copy.chain = chain
        for route in registered.routes {
            let node = copy.trie.node(for: route.pattern)
            let methods = node.value ?? Methods()
            let wrapped = Route(
                method: route.method, pattern: route.pattern, group: route.group, maxBodyBytes: route.maxBodyBytes, streamsBody: route.streamsBody,
                filters: route.filters, handler: chain.compose(around: route.handler)
            )
            methods.routes[route.method] = wrapped
            node.value = methods
            copy.registered.routes.append(wrapped)
        }
        return copy
    }

    /// Answers `error` through the filter chain (logged and counted like any response).
    func answering(_ error: any Error) -> Handler {
        chain.compose { _, _ in throw error }
    }

    /// The answer when no route takes the request: 404, 405 with `Allow`, or 400 for a non-canonical path.
    func refusal(for resolution: Resolution) -> HTTPError? {
        switch resolution {
        case .found: return nil
        case .notFound: return HTTPError(.notFound, detail: "no route for this path")
        case .invalidPath(let reason): return HTTPError(.invalidArgument, detail: "non-canonical path: \(reason)")
        case .methodNotAllowed(let allow):
            var headers = HTTPFields()
            headers[.allow] = allow.map(\.rawValue).joined(separator: ", ")
            return HTTPError(.invalidArgument, status: .methodNotAllowed, detail: "method not allowed; allowed: \(headers[.allow]!)", headers: headers)
        }
    }

    /// HEAD falls back to GET; the server then sends the head without the body.
    public func resolve(_ method: HTTPRequest.Method, _ target: Substring) -> Resolution {
        let path: RequestPath
        switch RequestPath.parse(target) {
        case .success(let parsed): path = parsed
        case .failure(let invalid): return .invalidPath(invalid.reason)
        }
        var parameters = Parameters()
        guard let methods = trie.lookup(path.segments, parameters: &parameters) else { return .notFound }
        if let route = methods.routes[method] ?? (method == .head ? methods.routes[.get] : nil) {
            return .found(route, parameters)
        }
        var allow = methods.routes.keys.sorted { $0.rawValue < $1.rawValue }
        if allow.contains(.get) { allow.append(.head) }
        return allow.isEmpty ? .notFound : .methodNotAllowed(allow: allow)
    }
}
