import CoreMetrics
import Synchronization

/// The training lane's metrics (at /metrics): jobs not yet final by kind and status, refreshed
/// each sweep, and the attempts queued again because their worker was lost or forgot them.
public final class TrainingMetrics: Sendable {
    private let factory: any MetricsFactory
    private let requeues: Counter
    private let gauges = Mutex<[String: Gauge]>([:])

    public init(factory: any MetricsFactory) {
        self.factory = factory
        requeues = Counter(label: "muse_training_requeues_total", factory: factory)
    }

    func requeued() {
        requeues.increment()
    }

    func jobs(_ census: [JobKind: [JobStatus: Int]]) {
        for kind in JobKind.allCases {
            for status in [JobStatus.queued, .dispatched, .running] {
                let gauge = gauges.withLock { gauges in
                    let key = "\(kind.rawValue).\(status.rawValue)"
                    if let existing = gauges[key] { return existing }
                    let made = Gauge(label: "muse_training_jobs", dimensions: [("kind", kind.rawValue), ("status", status.rawValue)], factory: factory)
                    gauges[key] = made
                    return made
                }
                gauge.record(census[kind]?[status] ?? 0)
            }
        }
    }
}
