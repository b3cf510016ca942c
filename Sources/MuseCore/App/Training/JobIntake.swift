import Foundation
import MuseJSON
import MuseWorkerProtocol

/// What workers send about crop, tag and training jobs: progress, checkpoints, cropped images,
/// the trained artifact and the result. All of it is checked against the job's current attempt:
/// news of one that was requeued or canceled stores nothing (404, the worker gives up on it).
public struct JobIntake: Sendable {
    let store: any JobStore
    let datasets: any DatasetStore
    let datasetBlobs: any BlobStore
    /// Checkpoints and trained LoRAs.
    let trainingBlobs: any BlobStore
    let models: any ModelStore
    let digests: any Digests
    let scheduler: JobScheduler
    let limits: DatasetLimits
    /// One job's (or one image's) uploads and result at a time: an upload commits only while its
    /// attempt is current, so nothing replaces a LoRA once its result has checked and published it.
    let serial = KeyedSerial()

    public init(
        store: any JobStore, datasets: any DatasetStore, datasetBlobs: any BlobStore, trainingBlobs: any BlobStore, models: any ModelStore,
        digests: any Digests, scheduler: JobScheduler, limits: DatasetLimits
    ) {
        self.store = store
        self.datasets = datasets
        self.datasetBlobs = datasetBlobs
        self.trainingBlobs = trainingBlobs
        self.models = models
        self.digests = digests
        self.scheduler = scheduler
        self.limits = limits
    }

    /// Where a training's LoRA is kept: one file per training, whichever attempt made it.
    public static func artifactKey(jobID: String) -> String { "lora-\(jobID).safetensors" }

    public func progress(attemptID: String, _ body: WorkerProgress) async throws {
        // A training's steps are the form's: a report of more, or of another total, is a bad report.
        if let job = try await store.job(attemptID: attemptID), job.kind == .train, let steps = TrainingSpec(job.params).steps {
            if let total = body.totalSteps, total != steps { throw InvalidInput("total_steps", "the training has \(steps) steps") }
            if let step = body.step, step > steps { throw InvalidInput("step", "the training has \(steps) steps") }
        }
        guard
            try await store.progress(attemptID: attemptID, progress: body.progress, step: body.step, totalSteps: body.totalSteps, loss: body.loss, at: Date())
                != nil
        else { throw Self.notCurrent(attemptID) }
        scheduler.heard(attemptID)
    }

    /// A checkpoint as it arrives, written straight to the blob store.
    public func checkpoint<Chunks: AsyncSequence>(attemptID: String, step: Int, chunks: Chunks) async throws where Chunks.Element == [UInt8] {
        let job = try await current(attemptID, kind: .train)
        let lowest = job.checkpoint?.step ?? 0
        guard step >= lowest, step <= TrainingSpec(job.params).steps ?? Int.max else {
            throw InvalidInput("step", "from the last checkpoint's step (\(lowest)) to the training's steps")
        }
        let key = "ckpt-\(job.id)-\(attemptID)-\(step).bin"
        _ = try await trainingBlobs.put(key, from: chunks)
        let (saved, replaced) = try await store.saveCheckpoint(attemptID: attemptID, JobCheckpoint(step: step, blobKey: key))
        guard saved else {
            try? await trainingBlobs.delete(key)
            throw Self.notCurrent(attemptID)
        }
        if let replaced, replaced.blobKey != key { try? await trainingBlobs.delete(replaced.blobKey) }
        scheduler.heard(attemptID)
    }

    /// A dataset image's record and bytes, for the worker running a job on it (workers hold the
    /// shared token: any dataset's images).
    public func datasetImage(datasetID: String, imageID: String) async throws -> (DatasetImage, any BlobReader) {
        guard let image = try await datasets.images(datasetID: datasetID).first(where: { $0.id == imageID }),
            let bytes = try await datasetBlobs.open(image.blobKey)
        else { throw ServiceError.notFound("no image \"\(imageID)\" in dataset \"\(datasetID)\"") }
        return (image, bytes)
    }

    /// A finished training's LoRA, for a worker that generates with it; nothing before it has succeeded.
    public func artifact(jobID: String) async throws -> any BlobReader {
        guard let job = try await store.job(id: jobID), job.status == .succeeded, let bytes = try await trainingBlobs.open(Self.artifactKey(jobID: jobID))
        else { throw ServiceError.notFound("no LoRA for \"\(jobID)\"") }
        return bytes
    }

    /// A trained LoRA by its catalogue key, for a worker that applies it to a generation.
    public func lora(modelKey: String) async throws -> any BlobReader {
        guard let job = try await store.job(outputModelKey: modelKey) else { throw ServiceError.notFound("no trained LoRA \"\(modelKey)\"") }
        return try await artifact(jobID: job.id)
    }

    /// A training's last checkpoint, for the worker that resumes it.
    public func checkpoint(jobID: String) async throws -> any BlobReader {
        guard let job = try await store.active().first(where: { $0.id == jobID }), let checkpoint = job.checkpoint,
            let bytes = try await trainingBlobs.open(checkpoint.blobKey)
        else { throw ServiceError.notFound("no checkpoint for \"\(jobID)\"") }
        return bytes
    }

    /// The trained LoRA's bytes, written before the result names them.
    public func artifact<Chunks: AsyncSequence>(attemptID: String, chunks: Chunks) async throws where Chunks.Element == [UInt8] {
        let job = try await current(attemptID, kind: .train)
        let upload = try await trainingBlobs.begin()
        do {
            guard try await upload.write(chunks) > 0 else { throw InvalidInput("body", "the body is empty") }
            // Checked again once the bytes are in, with the result held off: an attempt canceled,
            // requeued or finished meanwhile stores nothing.
            try await serial.run(job.id) {
                _ = try await current(attemptID, kind: .train)
                try await upload.commit(as: Self.artifactKey(jobID: job.id))
            }
        } catch {
            await upload.discard()
            throw error
        }
        scheduler.heard(attemptID)
    }

    /// A cropped image: the next version of a dataset image, checked like an upload, of the size
    /// the job asked for.
    public func croppedImage<Chunks: AsyncSequence>(
        attemptID: String, imageID: String, declaredType: ImageProbe.Format, chunks: Chunks
    ) async throws where Chunks.Element == [UInt8] {
        let job = try await current(attemptID, kind: .crop)
        guard try await datasets.images(datasetID: job.datasetID).contains(where: { $0.id == imageID }) else {
            throw ServiceError.notFound("no image \"\(imageID)\" in the job's dataset")
        }
        let upload = try await datasetBlobs.begin()
        do {
            let received = try await UploadedImage.receive(chunks, into: upload, declaredType: declaredType, digests: digests)
            let info = received.info
            let size = Self.cropSize(job)
            guard info.width == size.width, info.height == size.height else {
                throw InvalidInput("body", "the image is \(info.width)×\(info.height); the job asked for \(size.width)×\(size.height)")
            }
            // One version at a time per image: two uploads of one image never name the same file.
            let replaced = try await serial.run(imageID) { () async throws -> DatasetImage in
                guard let image = try await datasets.images(datasetID: job.datasetID).first(where: { $0.id == imageID }) else {
                    throw ServiceError.notFound("no image \"\(imageID)\" in the job's dataset")
                }
                let next = DatasetImage(
                    id: image.id, datasetID: image.datasetID, format: info.format, width: info.width, height: info.height, bytes: received.size,
                    sha256: received.sha256, caption: image.caption, version: image.version + 1, createdAt: image.createdAt)
                try await upload.commit(as: next.blobKey)
                guard try await datasets.saveVersion(next, whileAttempt: attemptID) != nil else {
                    try? await datasetBlobs.delete(next.blobKey)
                    // The job was canceled or requeued while the bytes arrived.
                    throw Self.notCurrent(attemptID)
                }
                return image
            }
            try? await datasetBlobs.delete(replaced.blobKey)
        } catch {
            await upload.discard()
            throw error
        }
        scheduler.heard(attemptID)
    }

    /// The job's end. A tag job's captions and a training's LoRA (its bytes checked against the
    /// result's sha256 and size, then a private `lora` in the catalogue) are applied first, so
    /// the job is `succeeded` only with its output in place. A repeated result changes nothing.
    public func result(attemptID: String, _ result: WorkerJobResult) async throws {
        guard let jobID = try await store.job(attemptID: attemptID)?.id else { throw Self.notCurrent(attemptID) }
        try await serial.run(jobID) { try await finish(attemptID: attemptID, result) }
    }

    private func finish(attemptID: String, _ result: WorkerJobResult) async throws {
        guard let job = try await store.job(attemptID: attemptID), job.attemptID == attemptID, !job.status.isFinal,
            job.status == .dispatched || job.status == .running
        else { throw Self.notCurrent(attemptID) }
        defer { scheduler.ended(attemptID) }
        switch result.status {
        case .succeeded: break
        case .canceled:
            // Not the owner's cancel (that made the job final already): the worker gave up on it.
            _ = try await store.finish(
                attemptID: attemptID, status: .failed, outputModelKey: nil,
                error: result.error ?? TaskError(code: "canceled_by_worker", message: "the worker stopped the job"), at: Date())
            await Self.discardCheckpoint(job, trainingBlobs)
            return
        default:
            _ = try await store.finish(
                attemptID: attemptID, status: .failed, outputModelKey: nil,
                error: result.error ?? TaskError(code: "internal", message: "the worker gave no reason"), at: Date())
            await Self.discardCheckpoint(job, trainingBlobs)
            return
        }
        var outputKey: String?
        switch job.kind {
        case .crop:
            let size = Self.cropSize(job)
            let missing = try await datasets.images(datasetID: job.datasetID).filter { $0.width != size.width || $0.height != size.height }
            if !missing.isEmpty {
                _ = try await store.finish(
                    attemptID: attemptID, status: .failed, outputModelKey: nil,
                    error: TaskError(code: "incomplete_crop", message: "\(missing.count) images were not cropped"), at: Date())
                return
            }
        case .tag:
            let images = Set(try await datasets.images(datasetID: job.datasetID).map(\.id))
            for caption in result.captions ?? [] where images.contains(caption.imageID) {
                guard caption.caption.isEmpty || DisplayText.isValid(caption.caption, maxScalars: DatasetService.maxCaptionScalars) else { continue }
                _ = try await datasets.setCaption(caption.caption, imageID: caption.imageID, datasetID: job.datasetID, tenant: job.tenant)
            }
        case .train:
            outputKey = try await publish(job, result.artifact)
            if outputKey == nil {
                try? await trainingBlobs.delete(Self.artifactKey(jobID: job.id))
                _ = try await store.finish(
                    attemptID: attemptID, status: .failed, outputModelKey: nil,
                    error: TaskError(code: "bad_artifact", message: "the artifact is missing or does not match its sha256 and size"), at: Date())
                return
            }
        }
        _ = try await store.finish(attemptID: attemptID, status: .succeeded, outputModelKey: outputKey, error: nil, at: Date())
        await Self.discardCheckpoint(job, trainingBlobs)
    }

    /// A final job's checkpoint is of no more use.
    static func discardCheckpoint(_ job: TrainingJob, _ blobs: any BlobStore) async {
        if let checkpoint = job.checkpoint { try? await blobs.delete(checkpoint.blobKey) }
    }

    static func cropSize(_ job: TrainingJob) -> (width: Int, height: Int) {
        func number(_ key: String) -> Int {
            if case .number(let text)? = job.params[member: key], let value = Double(text) { return Int(value) }
            return 0
        }
        return (number("width"), number("height"))
    }

    /// Checks the uploaded LoRA and enters it in the catalogue, private to the job's tenant.
    private func publish(_ job: TrainingJob, _ artifact: WorkerJobResult.Artifact?) async throws -> String? {
        let digests = digests
        guard let artifact,
            let (size, sha256) = try await trainingBlobs.withBytes(of: Self.artifactKey(jobID: job.id), { ($0.count, digests.sha256Hex($0)) }),
            size == artifact.size, sha256 == artifact.sha256
        else { return nil }
        let spec = TrainingSpec(job.params)
        let key = TrainingSpec.modelKey(outputName: spec.outputName, jobID: job.id)
        try await models.upsert([
            Model(
                key: key, name: spec.outputName, kind: .lora, base: spec.base, source: .private, version: "1",
                triggerWords: spec.triggerWord.isEmpty ? [] : [spec.triggerWord], owner: job.tenant)
        ])
        return key
    }

    private func current(_ attemptID: String, kind: JobKind) async throws -> TrainingJob {
        guard let job = try await store.job(attemptID: attemptID), job.attemptID == attemptID, job.kind == kind,
            job.status == .dispatched || job.status == .running
        else { throw Self.notCurrent(attemptID) }
        return job
    }

    static func notCurrent(_ attemptID: String) -> ServiceError { .notFound("attempt \"\(attemptID)\" is not current") }
}
