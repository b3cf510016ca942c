import Foundation
import MuseWorkerProtocol
import Synchronization

/// Estimates when a queued task will start: the work ahead of it (queued plus on workers),
/// spread over the live worker slots, at the recent mean service time per task.
public final class StartEstimator: Sendable {
    private let registry: WorkerRegistry
    /// Exponentially weighted mean of worker time per task (load + inference), in seconds.
    private let meanService = Mutex<Double?>(nil)

    public init(registry: WorkerRegistry) {
        self.registry = registry
    }

    /// A finished task's worker time.
    public func record(_ timings: WorkerTimings) {
        let seconds = Double(timings.loadMs + timings.inferMs) / 1000
        meanService.withLock { $0 = $0.map { $0 * 0.9 + seconds * 0.1 } ?? seconds }
    }

    /// When a task with `ahead` queued tasks before it should start; nil while no worker is
    /// live or no task has finished yet (no basis for an estimate).
    public func start(ahead: Int, now: Date = Date()) -> Date? {
        guard let mean = meanService.withLock({ $0 }) else { return nil }
        let load = registry.load(ability: .txt2img, now: now)
        guard load.slots > 0 else { return nil }
        // It starts once all but `slots - 1` of the work ahead has finished, at `slots` tasks per `mean`.
        let mustFinish = max(0, ahead + load.inFlight - load.slots + 1)
        return now.addingTimeInterval(Double(mustFinish) * mean / Double(load.slots))
    }
}
