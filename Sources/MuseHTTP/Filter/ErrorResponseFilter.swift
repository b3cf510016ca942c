import Logging

/// Turns every thrown error into a problem+json response. An `HTTPError` answers as itself;
/// anything else is a 500 `internal` that leaks nothing and is logged with the request id.
public struct ErrorResponseFilter: Filter {
    public init() {}

    public func handle(_ request: Request, context: RequestContext, next: Handler) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return Self.response(for: error, context: context)
        }
    }

    static func response(for error: any Error, context: RequestContext) -> Response {
        if let error = error as? HTTPError { return error.response }
        if let error = (error as? any HTTPResponseError)?.httpError { return error.response }
        context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))", "route": "\(context.route)"])
        return HTTPError(.internal, detail: "internal error; quote request id \(context.requestID)").response
    }
}
