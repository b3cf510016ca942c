import Foundation
import MuseJSON
import MuseWorkerProtocol

/// What workers report about attempts, by callback or by the polling fallback. At-least-once
/// safe: news of an attempt that is no longer current changes nothing.
public struct ResultIntake: Sendable {
    let store: any DispatchStore
    let registry: WorkerRegistry
    let images: any BlobStore
    let trigger: DispatchTrigger
    let estimator: StartEstimator
    let metrics: PipelineMetrics

    /// Records progress; false when the attempt is no longer current (the news changes nothing).
    @discardableResult
    public func progress(attemptID: String, _ body: WorkerProgress) async throws -> Bool {
        guard let task = try await store.apply(.progress(body.progress), attemptID: attemptID) else { return false }
        if let workerID = task.workerID { registry.touch(workerID, attemptID: attemptID) }
        return true
    }

    /// A worker's result: checked (structure, then each image, then against the job) before
    /// anything is kept; a result that fails a check is a 400 and changes nothing, not even the
    /// worker's slot (the attempt stays current until its lease).
    public func result(attemptID: String, _ body: WorkerResult) async throws {
        // Checked before the attempt is looked up: a malformed result is a 400 even for an unknown
        // attempt. (CPU work for a large result: the caller runs this off the event loops then.)
        try body.check()
        switch body.status {
        case .succeeded:
            try await keepImages(attemptID: attemptID, body)
        case .failed, .canceled:
            let error = body.error ?? TaskError(code: "internal", message: "the worker reported \(body.status.rawValue)")
            if try await store.apply(.fail(error, timings: body.timings), attemptID: attemptID) != nil { metrics.failed(code: error.code) }
        case .queued, .running:
            throw InvalidInput("status", "must be succeeded, failed or canceled")
        }
        // The attempt is over (or was not current): its slot is free.
        _ = registry.forget(attemptID: attemptID)
        trigger.pull()
    }

    /// Stores the images first, so that the task changes in one transaction: a result waits for
    /// one commit, not two, on the way to freeing its worker's slot.
    private func keepImages(attemptID: String, _ body: WorkerResult) async throws {
        let decoded = try ResultImages(body)
        var stored: [TaskImage] = []
        do {
            for image in decoded.images {
                let id = IDGenerator.make("img")
                try await images.put(id + ".png", image.png)
                stored.append(TaskImage(id: id, width: image.width, height: image.height, seed: image.seed))
            }
            let task = try await store.apply(.succeed(images: stored, timings: body.timings), attemptID: attemptID) { task in
                try decoded.check(against: task.params)
            }
            if task != nil {
                if let timings = body.timings { estimator.record(timings) }
            } else {
                // A repeated result, or one for an attempt that is no longer current: nothing to keep.
                await delete(stored)
            }
        } catch {
            await delete(stored)
            throw error
        }
    }

    private func delete(_ stored: [TaskImage]) async {
        for image in stored { try? await images.delete(image.id + ".png") }
    }
}
