import Foundation
import MuseJSON
import MuseWorkerProtocol

/// Crop, tag and training use cases: submit (checked against the dataset, the catalogue and the
/// training form), read, list, cancel (propagated to the worker), follow, and what to try a
/// finished LoRA with. Jobs are their tenant's only: another's id is 404.
public struct TrainingService: Sendable {
    let jobs: any JobStore
    let datasets: any DatasetStore
    let catalog: CatalogService
    let forms: [BaseModel: TrainingForm]
    let scheduler: JobScheduler
    /// Checkpoints, deleted when a job is canceled.
    let trainingBlobs: any BlobStore
    let notifier: any TaskEventNotifier
    public let feedSettings: TaskEventFeed.Settings
    /// Everyone some worker is reserved for: a `private` job of anyone else could never run.
    let reservedOwners: Set<String>
    /// Jobs a tenant may have queued or running at once.
    let maxUnfinishedPerTenant: Int
    /// Where a training's `webhook_url` may point (the generation webhooks' policy); nil: no webhooks.
    let webhookTargets: WebhookTargets?
    private let open = OpenStreams()

    public init(
        jobs: any JobStore, datasets: any DatasetStore, catalog: CatalogService, forms: [BaseModel: TrainingForm], scheduler: JobScheduler,
        trainingBlobs: any BlobStore, notifier: any TaskEventNotifier, feedSettings: TaskEventFeed.Settings, reservedOwners: Set<String>,
        maxUnfinishedPerTenant: Int, webhookTargets: WebhookTargets? = nil
    ) {
        self.trainingBlobs = trainingBlobs
        self.webhookTargets = webhookTargets
        self.maxUnfinishedPerTenant = maxUnfinishedPerTenant
        self.jobs = jobs
        self.datasets = datasets
        self.catalog = catalog
        self.forms = forms
        self.scheduler = scheduler
        self.notifier = notifier
        self.feedSettings = feedSettings
        self.reservedOwners = reservedOwners
    }

    public static let cropModes = ["center", "subject"]

    public func crop(datasetID: String, width: Int, height: Int, mode: String, caller: Caller) async throws -> TrainingJob {
        var problems: [InvalidInput.Problem] = []
        for (name, value) in [("width", width), ("height", height)] where !(64...4096).contains(value) || value % 8 != 0 {
            problems.append(.init(field: name, message: "must be a multiple of 8 from 64 to 4096"))
        }
        if !Self.cropModes.contains(mode) { problems.append(.init(field: "mode", message: "must be one of \(Self.cropModes.joined(separator: ", "))")) }
        guard problems.isEmpty else { throw InvalidInput(problems: problems) }
        try await requireImages(datasetID, caller)
        let params = JSONValue.object([("width", .number(String(width))), ("height", .number(String(height))), ("mode", .string(mode))])
        return try await submit(.crop, datasetID: datasetID, params: params, resources: .shared, caller: caller)
    }

    public func tag(datasetID: String, triggerWord: String, caller: Caller) async throws -> TrainingJob {
        try Self.checkTriggerWord(triggerWord)
        try await requireImages(datasetID, caller)
        return try await submit(.tag, datasetID: datasetID, params: .object([("trigger_word", .string(triggerWord))]), resources: .shared, caller: caller)
    }

    /// A training of `baseModel` (a checkpoint the caller may use) on the caller's dataset, its
    /// `params` checked against the form of that checkpoint's base.
    public func train(
        baseModel: String, datasetID: String, outputName: String, triggerWord: String, params: JSONValue?, resources: JobResources,
        webhookURL: String? = nil, caller: Caller
    ) async throws -> TrainingJob {
        guard DisplayText.isValid(outputName, maxScalars: 100) else {
            throw InvalidInput("output_name", "1 to 100 characters, not only spaces, no control, invisible or direction characters")
        }
        try Self.checkTriggerWord(triggerWord)
        let model: Model
        do {
            model = try await catalog.model(key: baseModel, for: caller)
        } catch ServiceError.notFound {
            throw InvalidInput("base_model", "no checkpoint \"\(baseModel)\" in the catalogue (GET /v1/models?type=checkpoint)")
        }
        guard model.kind == .checkpoint else { throw InvalidInput("base_model", "\"\(baseModel)\" is a LoRA; training starts from a checkpoint") }
        guard let form = forms[model.base] else { throw InvalidInput("base_model", "no training form for base \(model.base.rawValue)") }
        let resolved = try form.resolve(params)
        if resources == .private, reservedOwners.isDisjoint(with: [caller.tenant] + caller.teams) {
            throw InvalidInput("resources", "no workers are reserved for you or your teams: use \"shared\"")
        }
        if let webhookURL {
            guard let webhookTargets else { throw InvalidInput("webhook_url", "webhooks are not enabled") }
            _ = try await webhookTargets.check(webhookURL)
        }
        try await requireImages(datasetID, caller)
        let spec = TrainingSpec(baseModel: model.key, base: model.base, outputName: outputName, triggerWord: triggerWord, form: resolved)
        return try await submit(.train, datasetID: datasetID, params: spec.params, resources: resources, webhookURL: webhookURL, caller: caller)
    }

    /// A job of one of `kinds` (trainings at `/v1/trainings`, crop and tag at `/v1/jobs`).
    public func job(id: String, kinds: Set<JobKind>, caller: Caller) async throws -> TrainingJob {
        guard let job = try await jobs.job(id: id, tenant: caller.tenant), kinds.contains(job.kind) else {
            throw ServiceError.notFound(kinds == [.train] ? "no training \"\(id)\"" : "no job \"\(id)\"")
        }
        return job
    }

    public func list(kinds: Set<JobKind>, caller: Caller, limit: Int, before: String?) async throws -> (jobs: [TrainingJob], next: String?) {
        let split = Page.split(try await jobs.list(tenant: caller.tenant, kinds: kinds, limit: limit + 1, before: before), limit: limit, id: \.id)
        return (split.items, split.next)
    }

    /// Cancels the job if it is not final (a final one is returned as it is); the worker running
    /// it is told to stop.
    public func cancel(id: String, kinds: Set<JobKind>, caller: Caller) async throws -> TrainingJob {
        _ = try await job(id: id, kinds: kinds, caller: caller)
        guard let (job, stopped) = try await jobs.cancel(id: id, tenant: caller.tenant, at: Date()) else { throw Self.noJob(id) }
        if let stopped { scheduler.stop(attemptID: stopped.attemptID, workerID: stopped.workerID) }
        await JobIntake.discardCheckpoint(job, trainingBlobs)
        return job
    }

    /// What to try a succeeded training's LoRA with: its base checkpoint, a prompt with the
    /// trigger word, the LoRA at a weight that shows it without burning in.
    public func generationParams(id: String, caller: Caller) async throws -> (model: String, prompt: String, lora: String, weight: Double) {
        let job = try await job(id: id, kinds: [.train], caller: caller)
        guard job.status == .succeeded, let key = job.outputModelKey else {
            throw ServiceError.conflict("the training is \(job.status.rawValue): its LoRA exists once it has succeeded")
        }
        let spec = TrainingSpec(job.params)
        return (spec.baseModel, spec.triggerWord.isEmpty ? "a photo" : "a photo of \(spec.triggerWord)", key, 0.8)
    }

    /// The loss reported at each step so far, oldest first (at most `limit` points, evenly thinned).
    public func lossCurve(id: String, caller: Caller, limit: Int = 2000) async throws -> (job: TrainingJob, points: [(step: Int, loss: Double)]) {
        let job = try await job(id: id, kinds: [.train], caller: caller)
        var points: [(step: Int, loss: Double)] = []
        var after: Int64 = 0
        while true {
            let batch = try await jobs.events(jobID: id, after: after, limit: 1000)
            for event in batch { if let step = event.step, let loss = event.loss, points.last?.step != step { points.append((step, loss)) } }
            guard batch.count == 1000, let last = batch.last else { break }
            after = last.seq
        }
        if points.count > limit {
            let stride = Double(points.count) / Double(limit)
            points = (0..<limit).map { points[Int(Double($0) * stride)] }
        }
        return (job, points)
    }

    /// The training's events after `seq`, then each new one, until it is final.
    public func follow(id: String, caller: Caller, after seq: Int64) async throws -> AsyncThrowingStream<EventFollower.Item<JobEvent>, any Error> {
        let job = try await job(id: id, kinds: [.train], caller: caller)
        let tenant = caller.tenant
        guard open.take(tenant, max: feedSettings.maxPerTenant) else {
            throw ServiceError.rateLimited("at most \(feedSettings.maxPerTenant) event streams at once per tenant", retryAfterSeconds: 5)
        }
        let jobs = jobs
        return EventFollower.follow(
            id: id, notifier: notifier, settings: feedSettings, alreadyFinal: job.status.isFinal,
            read: { after in try await jobs.events(jobID: id, after: after, limit: 100) }, seq: \.seq, isFinal: { $0.status.isFinal }, after: seq,
            onEnd: { [open] in open.give(tenant) })
    }

    private func submit(
        _ kind: JobKind, datasetID: String, params: JSONValue, resources: JobResources, webhookURL: String? = nil, caller: Caller
    ) async throws -> TrainingJob {
        guard try await jobs.unfinished(tenant: caller.tenant) < maxUnfinishedPerTenant else {
            throw ServiceError.quotaExceeded(
                "you have \(maxUnfinishedPerTenant) crop, tag and training jobs queued or running, the most (training.max_unfinished_per_tenant)")
        }
        let now = Date()
        var job = TrainingJob(
            id: IDGenerator.make(kind.idPrefix, at: now), tenant: caller.tenant, owners: caller.teams.union([caller.tenant]), kind: kind,
            datasetID: datasetID, params: params, resources: resources, createdAt: now)
        job.webhookURL = webhookURL
        try await jobs.create(job)
        scheduler.pull()
        return job
    }

    private func requireImages(_ datasetID: String, _ caller: Caller) async throws {
        guard let dataset = try await datasets.dataset(id: datasetID, tenant: caller.tenant) else {
            throw ServiceError.notFound("no dataset \"\(datasetID)\"")
        }
        guard dataset.imageCount > 0 else { throw ServiceError.conflict("dataset \"\(datasetID)\" has no images yet") }
    }

    static func checkTriggerWord(_ word: String) throws(InvalidInput) {
        guard DisplayText.isValid(word, maxScalars: 64) else {
            throw InvalidInput("trigger_word", "1 to 64 characters, not only spaces, no control, invisible or direction characters")
        }
    }

    static func noJob(_ id: String) -> ServiceError { .notFound("no job \"\(id)\"") }
}
