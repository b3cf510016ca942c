import Foundation
import Logging
import MuseJSON
import MuseWorkerProtocol

/// The fallback when callbacks do not arrive: attempts without news for `pollAfter` are looked up
/// on their worker. A finished one is taken as if its result had been called back; one the
/// worker does not know is queued again.
struct AttemptPoller: Sendable {
    let registry: WorkerRegistry
    let client: any PredictClient
    let results: ResultIntake
    let reaper: AttemptReaper
    let trigger: DispatchTrigger
    let pollAfter: TimeInterval
    let metrics: PipelineMetrics
    let logger: Logger

    func pollSilentAttempts() async {
        let silent = registry.silentAttempts(since: Date().addingTimeInterval(-pollAfter))
        await withTaskGroup(of: Void.self) { group in
            for (attemptID, worker) in silent {
                registry.touch(worker.registration.workerID, attemptID: attemptID)  // one poll per `pollAfter`, whatever it answers
                group.addTask { await poll(attemptID, on: worker) }
            }
        }
    }

    private func poll(_ attemptID: String, on worker: WorkerRegistry.Worker) async {
        let workerID = worker.registration.workerID
        do {
            guard let status = try await client.status(attemptID: attemptID, workerURL: worker.registration.url) else {
                metrics.polled(outcome: "unknown")
                logger.warning("worker does not know the attempt", metadata: ["attempt": "\(attemptID)", "worker": "\(workerID)"])
                await reaper.requeue(attemptID, reason: "worker \(workerID) lost the job")
                trigger.slotFreed(registry, workerID: workerID, attemptID: attemptID)
                return
            }
            if status.status.isFinished {
                // A finished job carries its result, and the two agree; anything else is not believed.
                guard let result = status.result, result.status == status.status else {
                    throw InvalidInput("result", "a \(status.status.rawValue) job must carry a \(status.status.rawValue) result")
                }
                metrics.polled(outcome: "finished")
                logger.notice("result recovered by polling", metadata: ["attempt": "\(attemptID)", "status": "\(status.status.rawValue)"])
                try await results.result(attemptID: attemptID, result)
                return
            }
            metrics.polled(outcome: "running")
            // A job still queued on the worker changes nothing here.
            guard status.status == .running else { return }
            if try await !results.progress(attemptID: attemptID, WorkerProgress(progress: status.progress, step: nil, totalSteps: nil)) {
                // The task moved on (canceled, or its attempt was reaped) and the worker still runs
                // the job: stop it there and free the slot, rather than hold it until the job ends.
                logger.notice("worker still runs an attempt that is over", metadata: ["attempt": "\(attemptID)", "worker": "\(workerID)"])
                try? await client.cancel(attemptID: attemptID, workerURL: worker.registration.url)
                _ = registry.forget(attemptID: attemptID)
                trigger.pull()
            }
        } catch {
            metrics.polled(outcome: "error")
            logger.warning("polling a worker failed", metadata: ["attempt": "\(attemptID)", "worker": "\(workerID)", "error": "\(error)"])
        }
    }
}
