import Logging
import NIOCore

/// One log line per request: method, route pattern, status, duration, request id.
public struct AccessLogFilter: Filter {
    let level: Logger.Level

    public init(level: Logger.Level = .info) {
        self.level = level
    }

    public func handle(_ request: Request, context: RequestContext, next: Handler) async throws -> Response {
        let start = NIODeadline.now()
        let response = try await next(request, context)
        let micros = (NIODeadline.now() - start).nanoseconds / 1000
        let status = String(response.status.code)
        let method = request.method.rawValue
        // The request id goes in with the rest, so the context's logger need not be copied.
        context.baseLogger.log(
            level: level,
            "\(method) \(context.route) \(status) \(micros / 1000).\(String(micros % 1000 + 1000).dropFirst())ms",
            metadata: [
                "request_id": .string(context.requestID), "method": .string(method), "route": .string(context.route),
                "status": .string(status), "duration_us": .string(String(micros)),
            ]
        )
        return response
    }
}
