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
        context.logger.log(
            level: level,
            "\(request.method.rawValue) \(context.route) \(response.status.code) \(micros / 1000).\(String(micros % 1000 + 1000).dropFirst())ms",
            metadata: ["method": .string(request.method.rawValue), "route": .string(context.route),
                       "status": .stringConvertible(response.status.code), "duration_us": .stringConvertible(micros)]
        )
        return response
    }
}
