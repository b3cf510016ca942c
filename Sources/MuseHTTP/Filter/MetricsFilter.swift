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

    private let factory: any MetricsFactory
    private let inFlight: Meter
    // Metric handles are made once per label set; later requests only look them up.
    private let counters = Mutex<[Key: Counter]>([:])
    private let timers = Mutex<[String: Timer]>([:])

    public init(factory: any MetricsFactory) {
        self.factory = factory
        self.inFlight = Meter(label: "http_requests_in_flight", factory: factory)
    }

    public func handle(_ request: Request, context: RequestContext, next: Handler) async throws -> Response {
        let start = NIODeadline.now()
        inFlight.increment()
        defer { inFlight.decrement() }
        let response = try await next(request, context)
        let key = Key(route: context.route, method: request.method.rawValue, status: response.status.code)
        counter(key).increment()
        timer(context.route).recordNanoseconds((NIODeadline.now() - start).nanoseconds)
        return response
    }

    private func counter(_ key: Key) -> Counter {
        counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(
                label: "http_requests_total",
                dimensions: [("route", key.route), ("method", key.method), ("status", String(key.status))],
                factory: factory
            )
            counters[key] = counter
            return counter
        }
    }

    private func timer(_ route: String) -> Timer {
        timers.withLock { timers in
            if let timer = timers[route] { return timer }
            let timer = Timer(label: "http_request_duration_seconds", dimensions: [("route", route)], preferredDisplayUnit: .seconds, factory: factory)
            timers[route] = timer
            return timer
        }
    }
}
