import Foundation
import MuseHTTP

/// A task as the API shows it: the stored task plus where it stands in the queue.
public struct TaskView: Sendable {
    public var task: GenerationTask
    /// Queued tasks ahead of it; nil unless queued.
    public var queuePosition: Int?
    /// When it should start; nil unless queued and there is a basis for an estimate.
    public var estimatedStartAt: Date?
}

/// Generation use cases: submit, read, list, cancel. Every call is scoped to one tenant.
public struct GenerationService: Sendable {
    let tasks: any TaskStore
    let models: any ModelStore
    let presets: any PresetStore
    /// Limits come from here on each submit, so a config reload applies at once.
    let settings: LiveSettings
    let estimator: StartEstimator?
    /// Catalogue reads on the submit path, cached for a few seconds.
    let catalog: ModelLookup
    /// Called once a task is committed (the scheduler's wake-up).
    let submitted: @Sendable () -> Void
    /// Called with a task canceled while it may be on a worker (the scheduler tells the worker).
    let canceledOnWorker: @Sendable (GenerationTask) -> Void
    let metrics: PipelineMetrics?

    public init(
        tasks: any TaskStore, models: any ModelStore, presets: any PresetStore, settings: LiveSettings, estimator: StartEstimator? = nil,
        submitted: @escaping @Sendable () -> Void = {}, canceledOnWorker: @escaping @Sendable (GenerationTask) -> Void = { _ in },
        metrics: PipelineMetrics? = nil
    ) {
        self.metrics = metrics
        self.tasks = tasks
        self.models = models
        self.presets = presets
        self.catalog = ModelLookup(store: models)
        self.settings = settings
        self.estimator = estimator
        self.submitted = submitted
        self.canceledOnWorker = canceledOnWorker
    }

    /// Resolves and validates the request, then commits the task: once this returns, it is durable.
    public func submit(_ request: GenerationRequest, tenant: String, preset: PresetRef? = nil) async throws -> TaskView {
        let params = try await resolve(request, tenant: tenant)
        let now = Date()
        var task = GenerationTask(id: IDGenerator.make("gen", at: now), tenant: tenant, params: params, createdAt: now)
        task.preset = preset
        let ahead = try await tasks.insert(task)
        metrics?.submitted(lane: task.lane)
        submitted()
        return TaskView(task: task, queuePosition: ahead, estimatedStartAt: ahead.flatMap { estimator?.start(ahead: $0) })
    }

    /// Runs a preset version with overrides (API.md merge rule); the task records the version.
    public func submit(_ run: PresetRun, tenant: String) async throws -> TaskView {
        guard let preset = try await presets.preset(id: run.preset, tenant: tenant, version: run.presetVersion) else {
            throw HTTPError.notFound(run.presetVersion.map { "no version \($0) of preset \"\(run.preset)\"" } ?? "no preset \"\(run.preset)\"")
        }
        let merged = try PresetMerge.merge(preset.params, overrides: run.overrides, overridable: preset.overridable)
        let request = try JSONBody.decode(GenerationRequest.self, from: merged)
        return try await submit(request, tenant: tenant, preset: PresetRef(id: preset.id, version: preset.version))
    }

    /// The request checked against the catalogue and the limits, with every default filled in.
    public func resolve(_ request: GenerationRequest, tenant: String) async throws -> GenerationParams {
        let checkpoint = try await catalog.model(request.model).flatMap { $0.isVisible(to: tenant) ? $0 : nil }
        var loras: [String: Model] = [:]
        for reference in request.loras ?? [] where loras[reference.key] == nil {
            if let model = try await catalog.model(reference.key), model.isVisible(to: tenant) { loras[reference.key] = model }
        }
        return try ParamsResolver(limits: settings.current.limits).resolve(
            request, checkpoint: checkpoint, loras: loras, randomSeed: Int64.random(in: 0...Int64(UInt32.max))
        )
    }

    public func task(id: String, tenant: String) async throws -> TaskView {
        guard let task = try await tasks.task(id: id, tenant: tenant) else { throw HTTPError.notFound("no generation \"\(id)\"") }
        return try await views([task])[0]
    }

    /// One page, newest first, and the cursor of the next page (nil on the last).
    public func list(tenant: String, status: TaskStatus?, limit: Int, before: String?) async throws -> (tasks: [TaskView], next: String?) {
        let page = try await tasks.list(tenant: tenant, status: status, limit: limit + 1, before: before)
        let shown = Array(page.prefix(limit))
        return (try await views(shown), page.count > limit ? shown.last?.id : nil)
    }

    /// Cancels a task that has not finished; 409 once it has.
    public func cancel(id: String, tenant: String) async throws -> TaskView {
        let active: Set<TaskStatus> = [.queued, .scheduled, .dispatched, .running]
        if let canceled = try await tasks.transition(id: id, tenant: tenant, from: active, to: .canceled) {
            if canceled.workerID != nil { canceledOnWorker(canceled) }
            return try await views([canceled])[0]
        }
        let current = try await task(id: id, tenant: tenant)
        throw HTTPError(.conflict, detail: "generation \(id) is already \(current.task.status.rawValue)")
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
