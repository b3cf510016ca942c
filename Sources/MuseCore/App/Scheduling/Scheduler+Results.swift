import Foundation
import MuseJSON
import MuseWorkerProtocol

/// What workers report about attempts, by callback or by the polling fallback. At-least-once
/// safe: news of an attempt that is no longer current changes nothing.
extension Scheduler {
    public func progress(attemptID: String, _ body: WorkerProgress) async throws {
        if let task = try await store.recordProgress(attemptID: attemptID, progress: body.progress), let workerID = task.workerID {
            registry.touch(workerID, attemptID: attemptID)
        }
    }

    /// A worker's result, by callback or by polling: checked (structure, then each image, then
    /// against the job) before anything is kept; a result that fails a check is a 400 and
    /// changes nothing, not even the worker's slot (the attempt stays current until its lease).
    public func result(attemptID: String, _ body: WorkerResult) async throws {
        // Checked before the attempt is looked up: a malformed result is a 400 even for an unknown
        // attempt. (CPU work for a large result: the caller runs this off the event loops then.)
        try body.check()
        switch body.status {
        case "succeeded":
            let decoded = try ResultImages(body)
            // Stored first, so that the task changes in one transaction: a result waits for one
            // commit, not two, on the way to freeing its worker's slot.
            var stored: [TaskImage] = []
            do {
                for image in decoded.images {
                    let id = IDGenerator.make("img")
                    try await images.put(id + ".png", image.png)
                    stored.append(TaskImage(id: id, width: image.width, height: image.height, seed: image.seed))
                }
                let task = try await store.complete(attemptID: attemptID, images: stored, timings: body.timings) { task in
                    try decoded.check(against: task.params)
                }
                if task != nil {
                    if let timings = body.timings { estimator.record(timings) }
                } else {
                    // A repeated result, or one for an attempt that is no longer current: nothing to keep.
                    await deleteImages(stored)
                }
            } catch {
                await deleteImages(stored)
                throw error
            }
        case "failed", "canceled":
            let error = body.error ?? TaskError(code: "internal", message: "the worker reported \(body.status)")
            if try await store.fail(attemptID: attemptID, error: error, timings: body.timings) != nil { metrics.failed(code: error.code) }
        default:
            throw InvalidInput("status", "must be succeeded, failed or canceled")
        }
        // The attempt is over (or was not current): its slot is free.
        _ = registry.forget(attemptID: attemptID)
        wakeUp()
    }

    private func deleteImages(_ stored: [TaskImage]) async {
        for image in stored { try? await images.delete(image.id + ".png") }
    }

    /// The polling fallback: attempts without news for `pollAfter` are looked up on their
    /// worker. A finished one is taken as if its result had been called back; one the worker
    /// does not know is queued again.
    func pollSilentAttempts(pollAfter: TimeInterval) async {
        let silent = registry.silentAttempts(since: Date().addingTimeInterval(-pollAfter))
        await withTaskGroup(of: Void.self) { group in
            for (attemptID, worker) in silent {
                let workerID = worker.registration.workerID
                registry.touch(workerID, attemptID: attemptID)  // one poll per `pollAfter`, whatever it answers
                group.addTask { [self] in
                    do {
                        guard let status = try await client.status(attemptID: attemptID, workerURL: worker.registration.url) else {
                            metrics.polled(outcome: "unknown")
                            logger.warning("worker does not know the attempt", metadata: ["attempt": "\(attemptID)", "worker": "\(workerID)"])
                            await requeue(attemptID, reason: "worker \(workerID) lost the job")
                            slotFreed(workerID: workerID, attemptID: attemptID)
                            return
                        }
                        if let result = status.result, ["succeeded", "failed", "canceled"].contains(status.status) {
                            metrics.polled(outcome: "finished")
                            logger.notice("result recovered by polling", metadata: ["attempt": "\(attemptID)", "status": "\(status.status)"])
                            try await self.result(attemptID: attemptID, result)
                        } else {
                            metrics.polled(outcome: "running")
                            if status.status == "running" {
                                try await progress(attemptID: attemptID, WorkerProgress(progress: status.progress, step: nil, totalSteps: nil))
                            }
                        }
                    } catch {
                        metrics.polled(outcome: "error")
                        logger.warning("polling a worker failed", metadata: ["attempt": "\(attemptID)", "worker": "\(workerID)", "error": "\(error)"])
                    }
                }
            }
        }
    }
}
