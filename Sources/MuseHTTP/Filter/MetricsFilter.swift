import CoreMetrics
import HTTPTypes
import NIOCore
import Synchronization

/// Counts requests by route pattern, method and status, times them by route, and gauges in-flight.
public final class MetricsFilter: Filter {
    private struct Key: Hashable {
        var route: String
        var method: String
        var status: Int
    }

    private struct Handles {
        var counter: Counter
        var timer: Timer
    }

    private let factory: any MetricsFactory
    private let inFlight: Meter
    // Metric handles are made once per label set; later requests only look them up (one lock).
    private let handles = Mutex<[Key: Handles]>([:])

    public init(factory: any MetricsFactory) {
        self.factory = factory
        self.inFlight = Meter(label: "http_requests_in_flight", factory: factory)
    }

    public func handle(_ request: Request, context: RequestContext, next: Handler) async throws -> Response {
        let start = NIODeadline.now()
        inFlight.increment()
        defer { inFlight.decrement() }
        let response = try await next(request, context)
        let found = handles(Key(route: context.route, method: request.method.rawValue, status: response.status.code))
        found.counter.increment()
        found.timer.recordNanoseconds((NIODeadline.now() - start).nanoseconds)
        return response
    }

    private func handles(_ key: Key) -> Handles {
        handles.withLock { handles in
            if let found = handles[key] { return found }
            let made = Handles(
                counter: Counter(
                    label: "http_requests_total",
                    dimensions: [("route", key.route), ("method", key.method), ("status", String(key.status))],
                    factory: factory
                ),
                // The factory hands back the one histogram per route, whatever the status.
                timer: Timer(label: "http_request_duration_seconds", dimensions: [("route", key.route)], preferredDisplayUnit: .seconds, factory: factory)
            )
            handles[key] = made
            return made
        }
    }
}
