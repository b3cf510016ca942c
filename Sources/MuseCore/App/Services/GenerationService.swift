import Foundation
import MuseJSON
import MuseWorkerProtocol

/// What `POST /v1/generations` carries: full parameters, or a preset with overrides.
public enum Submission: Sendable {
    case params(GenerationRequest)
    case preset(PresetRun)
}

/// An `Idempotency-Key` header and the hash of the body it came with.
public struct IdempotencyKey: Sendable {
    public var key: String
    public var bodyHash: String

    public init(key: String, bodyHash: String) {
        self.key = key
        self.bodyHash = bodyHash
    }
}

/// A task as the API shows it: the stored task plus where it stands in the queue.
public struct TaskView: Sendable {
    public var task: GenerationTask
    /// Queued tasks ahead of it; nil unless queued.
    public var queuePosition: Int?
    /// When it should start; nil unless queued and there is a basis for an estimate.
    public var estimatedStartAt: Date?

    public init(task: GenerationTask, queuePosition: Int? = nil, estimatedStartAt: Date? = nil) {
        self.task = task
        self.queuePosition = queuePosition
        self.estimatedStartAt = estimatedStartAt
    }
}

/// Generation use cases: submit, read, list, cancel. Every call is scoped to one tenant.
public struct GenerationService: Sendable {
    let tasks: any TaskStore
    let models: any ModelStore
    let presets: any PresetStore
    /// Checks `webhook_url` against the target policy; nil: no webhooks.
    let webhookTargets: WebhookTargets?
    let idempotencyKeys: any IdempotencyStore
    /// How long an idempotency key is remembered.
    let idempotencyTTL: TimeInterval
    /// Limits come from here on each submit, so a config reload applies at once.
    let settings: LiveSettings
    let estimator: StartEstimator?
    /// Catalogue reads on the submit path, cached for a few seconds.
    let catalog: ModelLookup
    /// Told of each committed task and of a cancel that may reach a worker (the scheduler).
    let queue: (any QueueSignal)?
    let metrics: PipelineMetrics?

    public init(
        tasks: any TaskStore, models: any ModelStore, presets: any PresetStore, idempotencyKeys: any IdempotencyStore,
        idempotencyTTL: TimeInterval = 86_400, webhookTargets: WebhookTargets? = nil, settings: LiveSettings, estimator: StartEstimator? = nil,
        queue: (any QueueSignal)? = nil,
        metrics: PipelineMetrics? = nil
    ) {
        self.metrics = metrics
        self.tasks = tasks
        self.models = models
        self.presets = presets
        self.webhookTargets = webhookTargets
        self.idempotencyKeys = idempotencyKeys
        self.idempotencyTTL = idempotencyTTL
        self.catalog = ModelLookup(store: models)
        self.settings = settings
        self.estimator = estimator
        self.queue = queue
    }

    /// Resolves and validates the submission, then commits the task: once this returns, it is
    /// durable. With an idempotency key, a repeat of the first request returns its task
    /// (`replayed`), a repeat while it is processed is 409, and the key with another body is 422.
    public func submit(_ submission: Submission, caller: Caller, idempotency: IdempotencyKey? = nil) async throws -> (view: TaskView, replayed: Bool) {
        guard let idempotency else { return (try await create(submission, caller: caller, idempotencyKey: nil), false) }
        let tenant = caller.tenant
        let now = Date()
        switch try await idempotencyKeys.claim(
            tenant: tenant, key: idempotency.key, bodyHash: idempotency.bodyHash, now: now,
            expiredBefore: now.addingTimeInterval(-idempotencyTTL), abandonedBefore: now.addingTimeInterval(-Self.abandonedAfter)
        ) {
        case .done(let taskID):
            return (try await task(id: taskID, tenant: tenant), true)
        case .inProgress:
            throw ServiceError.conflict("a request with this Idempotency-Key is still being processed; retry shortly")
        case .mismatch:
            throw ServiceError.mismatch("this Idempotency-Key was used with another request body")
        case .claimed:
            do {
                return (try await create(submission, caller: caller, idempotencyKey: idempotency.key), false)
            } catch {
                // A refused request leaves the key free: the client may fix the body and retry with it.
                try? await idempotencyKeys.release(tenant: tenant, key: idempotency.key)
                throw error
            }
        }
    }

    /// A claim not completed within this time belongs to a request whose server died: it may be taken over.
    static let abandonedAfter: TimeInterval = 60

    private func create(_ submission: Submission, caller: Caller, idempotencyKey: String?) async throws -> TaskView {
        let request: GenerationRequest
        var preset: PresetRef?
        switch submission {
        case .params(let given):
            request = given
        case .preset(let run):
            // The docs/API.md merge rule: the preset version's params ⊕ overrides, validated like a full request.
            // Their own presets, and those shared with one of their teams: members may run them.
            guard let saved = try await presets.preset(id: run.preset, version: run.presetVersion), saved.isReadable(by: caller) else {
                throw ServiceError.notFound(run.presetVersion.map { "no version \($0) of preset \"\(run.preset)\"" } ?? "no preset \"\(run.preset)\"")
            }
            let merged = try PresetMerge.merge(saved.params, overrides: run.overrides, overridable: saved.overridable)
            request = try JSON.decode(GenerationRequest.self, from: merged)
            preset = PresetRef(id: saved.id, version: saved.version)
        }
        let params = try await resolve(request, caller: caller)
        let now = Date()
        var task = GenerationTask(id: IDGenerator.make("gen", at: now), tenant: caller.tenant, params: params, createdAt: now)
        task.preset = preset
        let ahead = try await tasks.insert(task, idempotencyKey: idempotencyKey)
        metrics?.submitted(lane: task.lane)
        queue?.taskSubmitted()
        return TaskView(task: task, queuePosition: ahead, estimatedStartAt: ahead.flatMap { estimator?.start(ahead: $0) })
    }

    /// Deletes idempotency keys past their time; run now and then.
    public func purgeIdempotencyKeys() async throws -> Int {
        try await idempotencyKeys.purge(before: Date().addingTimeInterval(-idempotencyTTL))
    }

    /// The client error a request would get, if any (other failures count as none here: they
    /// will surface when it runs).
    public func validationProblem(_ request: GenerationRequest, caller: Caller) async -> InvalidInput? {
        let outcome: InvalidInput?
        do {
            _ = try await resolve(request, caller: caller)
            outcome = nil
        } catch {
            outcome = error as? InvalidInput
        }
        return outcome
    }

    /// The request checked against the catalogue and the limits, with every default filled in.
    public func resolve(_ request: GenerationRequest, caller: Caller) async throws -> GenerationParams {
        // Bounded before any catalogue lookup: each LoRA key is one.
        let maxLoRAs = settings.current.limits.maxLoRAs
        if let count = request.loras?.count, count > maxLoRAs { throw InvalidInput("loras", "at most \(maxLoRAs) LoRAs") }
        let checkpoint = try await catalog.model(request.model).flatMap { $0.isVisible(to: caller) ? $0 : nil }
        var loras: [String: Model] = [:]
        for reference in request.loras ?? [] where loras[reference.key] == nil {
            if let model = try await catalog.model(reference.key), model.isVisible(to: caller) { loras[reference.key] = model }
        }
        let params = try ParamsResolver(limits: settings.current.limits).resolve(
            request, checkpoint: checkpoint, loras: loras, randomSeed: Int64.random(in: 0...Int64(UInt32.max))
        )
        // Only the caller's own images: an id of another tenant's is as unknown as one that never existed.
        if let initImage = params.initImage, initImage.hasPrefix("img_"), try await tasks.imageTenant(initImage) != caller.tenant {
            throw InvalidInput("init_image", "no such image")
        }
        if let url = params.webhookURL {
            guard let webhookTargets else { throw InvalidInput("webhook_url", "webhooks are not enabled") }
            _ = try await webhookTargets.check(url)
        }
        return params
    }

    public func task(id: String, tenant: String) async throws -> TaskView {
        guard let task = try await tasks.task(id: id, tenant: tenant) else { throw ServiceError.notFound("no generation \"\(id)\"") }
        return try await views([task])[0]
    }

    /// One page, newest first, and the cursor of the next page (nil on the last).
    public func list(tenant: String, status: TaskStatus?, limit: Int, before: String?) async throws -> (tasks: [TaskView], next: String?) {
        let page = try await tasks.list(tenant: tenant, status: status, limit: limit + 1, before: before)
        let split = Page.split(page, limit: limit, id: \.id)
        return (try await views(split.items), split.next)
    }

    /// Cancels a task that has not finished; 409 once it has.
    public func cancel(id: String, tenant: String) async throws -> TaskView {
        if let canceled = try await tasks.apply(.cancel, taskID: id, tenant: tenant) {
            if canceled.workerID != nil { queue?.taskCanceled(canceled) }
            return try await views([canceled])[0]
        }
        let current = try await task(id: id, tenant: tenant)
        throw ServiceError.conflict("generation \(id) is already \(current.task.status.rawValue)")
    }

    /// The tasks with their queue positions and start estimates (one store call for all).
    private func views(_ page: [GenerationTask]) async throws -> [TaskView] {
        let ahead = try await tasks.tasksAhead(of: page)
        return page.map { task in
            let position = ahead[task.id]
            return TaskView(task: task, queuePosition: position, estimatedStartAt: position.flatMap { estimator?.start(ahead: $0) })
        }
    }
}
