import CoreMetrics
import Foundation
import MuseWorkerProtocol
import Synchronization

/// The pipeline's metrics for operators (exported at /metrics): submits, failures by code,
/// dispatch latency, model switches, and gauges refreshed each scheduler sweep (queue depth per
/// lane, tasks by status, each worker's busy ratio).
public final class PipelineMetrics: Sendable {
    private let factory: any MetricsFactory
    private let modelSwitches: Counter
    private let handles = Mutex<[String: AnyObject]>([:])

    public init(factory: any MetricsFactory) {
        self.factory = factory
        modelSwitches = Counter(label: "muse_model_switches_total", factory: factory)
    }

    private func handle<T: AnyObject>(_ key: String, _ make: () -> T) -> T {
        handles.withLock { handles in
            if let existing = handles[key] as? T { return existing }
            let made = make()
            handles[key] = made
            return made
        }
    }

    public func submitted(lane: Priority) {
        handle("submitted.\(lane.rawValue)") { Counter(label: "muse_tasks_submitted_total", dimensions: [("lane", lane.rawValue)], factory: factory) }
            .increment()
    }

    /// Failures by code; a code outside the known list counts as `other` (a worker chooses it).
    public func failed(code reported: String) {
        let code = TaskError.knownCodes.contains(reported) ? reported : "other"
        handle("failed.\(code)") { Counter(label: "muse_task_failures_total", dimensions: [("code", code)], factory: factory) }.increment()
    }

    /// From commit to the moment a worker got the job.
    public func dispatched(lane: Priority, after latency: TimeInterval, switchedModel: Bool) {
        handle("dispatch.\(lane.rawValue)") {
            Timer(label: "muse_dispatch_latency_seconds", dimensions: [("lane", lane.rawValue)], preferredDisplayUnit: .seconds, factory: factory)
        }.recordNanoseconds(Int64(max(0, latency) * 1_000_000_000))
        if switchedModel { modelSwitches.increment() }
    }

    /// One job or batch offered to a worker: `accepted`, `full` (429) or `error`; `jobs` in it.
    public func workerCall(outcome: String, jobs: Int) {
        handle("call.\(outcome)") { Counter(label: "muse_worker_calls_total", dimensions: [("outcome", outcome)], factory: factory) }.increment()
        if jobs > 1, outcome == "accepted" {
            handle("batched") { Counter(label: "muse_batched_jobs_total", factory: factory) }.increment(by: jobs)
        }
    }

    /// A silent attempt the scheduler asked its worker about (the polling fallback) and what it learned.
    public func polled(outcome: String) {
        handle("poll.\(outcome)") { Counter(label: "muse_worker_polls_total", dimensions: [("outcome", outcome)], factory: factory) }.increment()
    }

    public func tasks(byStatus counts: [TaskStatus: Int], queuedByLane: [Priority: Int]) {
        for status in TaskStatus.allCases {
            handle("status.\(status.rawValue)") { Gauge(label: "muse_tasks", dimensions: [("status", status.rawValue)], factory: factory) }
                .record(counts[status] ?? 0)
        }
        for lane in Priority.allCases {
            handle("queue.\(lane.rawValue)") { Gauge(label: "muse_queue_depth", dimensions: [("lane", lane.rawValue)], factory: factory) }
                .record(queuedByLane[lane] ?? 0)
        }
    }

    /// Removes the worker's series: worker ids come and go, and a gone one must not stay exported.
    public func workerLeft(_ workerID: String) {
        let gauge = handles.withLock { $0.removeValue(forKey: "busy.\(workerID)") }
        (gauge as? Gauge)?.destroy()
    }

    public func workerBusy(_ workerID: String, _ busy: Double) {
        handle("busy.\(workerID)") { Gauge(label: "muse_worker_busy_ratio", dimensions: [("worker", workerID)], factory: factory) }.record(busy)
    }
}
