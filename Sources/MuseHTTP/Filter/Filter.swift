/// A step of the request path (Hummingbird's middleware shape): answer, or call `next`.
public protocol Filter: Sendable {
    func handle(_ request: Request, context: RequestContext, next: Handler) async throws -> Response
}

/// The filters in order, composed once around the router's dispatch.
public struct FilterChain: Sendable {
    public let filters: [any Filter]

    public init(_ filters: [any Filter]) {
        self.filters = filters
    }

    /// The composed handler: the first filter runs first and sees the final response last.
    func compose(around handler: @escaping Handler) -> Handler {
        filters.reversed().reduce(handler) { next, filter in
            { request, context in try await filter.handle(request, context: context, next: next) }
        }
    }
}
