import HTTPTypes

/// A route's handler: decode, call a service, encode. Errors it throws become problem+json.
public typealias Handler = @Sendable (Request, RequestContext) async throws -> Response

/// One registered route.
public struct Route: Sendable {
    /// The pattern as registered, e.g. `/v1/generations/{id}`.
    public let pattern: String
    /// The largest body this route reads; `nil` takes the server's default.
    public let maxBodyBytes: Int?
    let handler: Handler
}

/// Maps method and path to a route; builds once at start-up, then is read-only.
public struct Router: Sendable {
    final class Methods: @unchecked Sendable {
        // Written only while routes are registered, before the server starts; read-only after.
        var routes: [HTTPRequest.Method: Route] = [:]
    }

    /// The outcome of a lookup.
    public enum Resolution: Sendable {
        case found(Route, Parameters)
        case methodNotAllowed(allow: [HTTPRequest.Method])
        case notFound
    }

    private let trie = PathTrie<Methods>()
    private var chain = FilterChain([])

    public init() {}

    public func on(_ method: HTTPRequest.Method, _ pattern: String, maxBodyBytes: Int? = nil, _ handler: @escaping Handler) {
        let node = trie.node(for: pattern)
        let methods = node.value ?? Methods()
        precondition(methods.routes[method] == nil, "route \(method) \(pattern) registered twice")
        methods.routes[method] = Route(pattern: pattern, maxBodyBytes: maxBodyBytes, handler: handler)
        node.value = methods
    }

    public func get(_ pattern: String, _ handler: @escaping Handler) { on(.get, pattern, handler) }
    public func post(_ pattern: String, maxBodyBytes: Int? = nil, _ handler: @escaping Handler) {
        on(.post, pattern, maxBodyBytes: maxBodyBytes, handler)
    }
    public func put(_ pattern: String, maxBodyBytes: Int? = nil, _ handler: @escaping Handler) {
        on(.put, pattern, maxBodyBytes: maxBodyBytes, handler)
    }
    public func delete(_ pattern: String, _ handler: @escaping Handler) { on(.delete, pattern, handler) }

    /// A copy whose every handler, and the 404 and 405 answers, run inside the filter chain.
    public func composed(with chain: FilterChain) -> Router {
        var copy = Router()
        copy.chain = chain
        Self.copy(trie.root, into: copy.trie.root, chain: chain)
        return copy
    }

    private static func copy(_ node: PathTrie<Methods>.Node, into target: PathTrie<Methods>.Node, chain: FilterChain) {
        if let methods = node.value {
            let wrapped = Methods()
            for (method, route) in methods.routes {
                wrapped.routes[method] = Route(pattern: route.pattern, maxBodyBytes: route.maxBodyBytes, handler: chain.compose(around: route.handler))
            }
            target.value = wrapped
        }
        for (segment, child) in node.statics {
            let copied = PathTrie<Methods>.Node()
            target.statics[segment] = copied
            copy(child, into: copied, chain: chain)
        }
        if let (name, child) = node.parameter {
            let copied = PathTrie<Methods>.Node()
            target.parameter = (name, copied)
            copy(child, into: copied, chain: chain)
        }
    }

    var notFoundHandler: Handler {
        chain.compose { _, _ in throw HTTPError(.notFound, detail: "no route for this path") }
    }

    func methodNotAllowedHandler(allow: [HTTPRequest.Method]) -> Handler {
        var headers = HTTPFields()
        headers[.allow] = allow.map(\.rawValue).joined(separator: ", ")
        let error = HTTPError(.invalidArgument, status: .methodNotAllowed, detail: "method not allowed; allowed: \(headers[.allow]!)", headers: headers)
        return chain.compose { _, _ in throw error }
    }

    /// HEAD falls back to GET; the server then sends the head without the body.
    public func resolve(_ method: HTTPRequest.Method, _ path: Substring) -> Resolution {
        var parameters = Parameters()
        guard let methods = trie.lookup(path, parameters: &parameters) else { return .notFound }
        if let route = methods.routes[method] ?? (method == .head ? methods.routes[.get] : nil) {
            return .found(route, parameters)
        }
        var allow = methods.routes.keys.sorted { $0.rawValue < $1.rawValue }
        if allow.contains(.get) { allow.append(.head) }
        return allow.isEmpty ? .notFound : .methodNotAllowed(allow: allow)
    }
}
