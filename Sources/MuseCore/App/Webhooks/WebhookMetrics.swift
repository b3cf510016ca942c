import CoreMetrics
import Synchronization

/// Webhook tries by outcome (`2xx`, `4xx`, `5xx`, `error`) and deliveries by final status.
public final class WebhookMetrics: Sendable {
    private let factory: any MetricsFactory
    private let counters = Mutex<[String: Counter]>([:])

    public init(factory: any MetricsFactory) {
        self.factory = factory
    }

    func attempted(outcome: String, final status: DeliveryStatus) {
        counter("muse_webhook_attempts_total", ("outcome", outcome)).increment()
        if status != .pending { counter("muse_webhook_deliveries_total", ("status", status.rawValue)).increment() }
    }

    private func counter(_ label: String, _ dimension: (String, String)) -> Counter {
        counters.withLock { counters in
            let key = label + dimension.1
            if let existing = counters[key] { return existing }
            let made = Counter(label: label, dimensions: [dimension], factory: factory)
            counters[key] = made
            return made
        }
    }
}
