import MuseHTTP

/// Guards `/internal/` with the shared worker token; other paths pass untouched.
public struct WorkerTokenFilter: Filter {
    let token: [UInt8]

    public init(token: String) {
        self.token = Array(token.utf8)
    }

    public func handle(_ request: Request, context: RequestContext, next: Handler) async throws -> Response {
        guard request.path.hasPrefix("/internal/") else { return try await next(request, context) }
        let offered = request.head.headerFields[.authorization].map { Array($0.utf8.dropFirst("Bearer ".count)) } ?? []
        guard Digest.equal(offered, token) else { throw HTTPError(.unauthenticated, detail: "worker token required") }
        return try await next(request, context)
    }
}
