import MuseCore
import MuseHTTP
import MuseInfra
import ServiceLifecycle

/// The generation stack every binary serves, built from its config and the parts its profile
/// hands in: the stores, the pipeline, the routes in their groups (public operations, `/v1`
/// behind the profile's security filter, `/internal/v1` behind the worker token) and the
/// background services.
public struct ServerAssembly {
    public let router: Router
    /// The services besides the HTTP server, in start order.
    public let services: [any Service]

    /// `profile` hands in its tables, then, built on the opened stores, its `/v1` check, routes
    /// and services (muse-cloud's API keys live in its database).
    public init(runtime: Runtime, profile: any ServerProfile.Type) async throws {
        let taskEvents = LocalTaskEventNotifier()
        let stores = try await EmbeddedStores.open(
            dataDir: runtime.config.dataDir, pool: runtime.blockingPool, settings: runtime.config.storage, notifier: taskEvents,
            metrics: SQLiteMetrics(factory: runtime.metricsFactory), tracks: profile.migrations
        )
        let catalog = CatalogService(store: stores.models)
        let catalogFile = runtime.config.catalogFile
        // No file named: the catalogue built into the binary.
        try await catalog.importIfEmpty {
            catalogFile.isEmpty ? try CatalogFile.parse(BundledFiles.catalog, source: "the built-in catalogue") : try CatalogFile.read(catalogFile)
        }
        let trainingFile = runtime.config.trainingFile
        let training =
            try trainingFile.isEmpty
            ? TrainingFile.parse(BundledFiles.training, source: "the built-in training definitions") : TrainingFile.read(trainingFile)
        let signature = WebhookSignature(digests: OpenSSLDigests())
        let images = try FileBlobStore(directory: runtime.config.dataDir + "/images", pool: runtime.blockingPool)
        let workerToken = try WorkerToken.resolve(configured: runtime.config.workerToken, dataDir: runtime.config.dataDir)
        let workers = WorkerRegistry()
        let pipelineMetrics = PipelineMetrics(factory: runtime.metricsFactory)
        let settings = LiveSettings(runtime.config.dynamic)
        let webhookTargets = WebhookTargets(policy: runtime.config.webhookTargets, resolver: SystemHostResolver())
        let estimator = StartEstimator(registry: workers)
        let scheduler = Scheduler(
            store: stores.dispatch, registry: workers,
            client: WorkerPoolPredictClient(pool: runtime.outboundHTTPPool, token: workerToken), images: images,
            callbackBaseURL: runtime.callbackBaseURL, maxAttempts: runtime.config.maxAttempts, lease: runtime.config.lease,
            pollAfter: runtime.config.pollAfter, settings: settings, estimator: estimator, metrics: pipelineMetrics, logger: runtime.logger
        )
        let generations = GenerationService(
            tasks: stores.tasks, models: stores.models, presets: stores.presets, idempotencyKeys: stores.idempotency,
            idempotencyTTL: runtime.config.idempotencyTTL, webhookTargets: webhookTargets, settings: settings, estimator: estimator,
            queue: scheduler, metrics: pipelineMetrics
        )

        // Webhook tries get their own threads: a hanging receiver holds one of these, never a worker push.
        let webhooks = WebhookDispatcher(
            store: stores.webhooks, tasks: stores.tasks, jobs: stores.jobs,
            sender: CurlWebhookSender(pool: BlockingPool(threads: runtime.config.webhooks.concurrency)), signature: signature, targets: webhookTargets,
            settings: runtime.config.webhooks, render: TaskJSON.encode, renderJob: TrainingJSON.encode,
            metrics: WebhookMetrics(factory: runtime.metricsFactory), logger: runtime.logger
        )

        let parts = try await profile.parts(runtime: runtime, shared: SharedStack(stores: stores, images: images, settings: settings))
        let router = Router()
        let operations = router.group("", name: "public")
        let api = router.group("/v1", name: "api", filters: parts.apiFilters)
        let workerRoutes = router.group("/internal/v1", name: "workers", filters: [BearerTokenFilter(token: workerToken, detail: "worker token required")])
        OperationsController(readiness: runtime.readiness, checks: [SQLiteReadiness(database: stores.database)], registry: runtime.metricsRegistry)
            .register(on: operations)
        try OpenAPIController(path: runtime.config.openAPIFile, overlay: parts.openAPIOverlay, logger: runtime.logger).register(on: operations)
        let feed = TaskEventFeed(generations: generations, events: stores.tasks, notifier: taskEvents, settings: runtime.config.events)
        GenerationsController(service: generations, feed: feed).register(on: api)
        PresetsController(service: PresetService(presets: stores.presets, tasks: stores.tasks, generations: generations)).register(on: api)
        ModelsController(catalog: catalog).register(on: api)
        WebhooksController(
            service: WebhookService(
                store: stores.webhooks, tasks: stores.tasks, jobs: stores.jobs, signature: signature,
                redeliveries: RedeliveryLimit(perMinute: runtime.config.redeliveriesPerMinute)
            )
        ).register(on: api)
        ImagesController(store: stores.tasks, images: images).register(on: api)
        let datasetBlobs = try FileBlobStore(directory: runtime.config.dataDir + "/datasets", pool: runtime.blockingPool)
        let trainingBlobs = try FileBlobStore(directory: runtime.config.dataDir + "/training", pool: runtime.blockingPool)
        DatasetsController(
            service: DatasetService(
                store: stores.datasets, jobs: stores.jobs, blobs: datasetBlobs, digests: OpenSSLDigests(), limits: runtime.config.datasets,
                categories: training.datasetCategories
            ),
            maxImageBytes: runtime.config.datasets.maxImageBytes
        ).register(on: api)
        TrainingFormController(forms: training.forms).register(on: api)
        let trainingSettings = runtime.config.training
        let jobScheduler = JobScheduler(
            store: stores.jobs, datasets: stores.datasets, registry: workers,
            client: WorkerPoolTrainClient(pool: runtime.outboundHTTPPool, token: workerToken), trainingBlobs: trainingBlobs,
            callbackBaseURL: runtime.callbackBaseURL,
            settings: .init(reservedWorkers: trainingSettings.reservedWorkers, maxAttempts: trainingSettings.maxAttempts),
            metrics: TrainingMetrics(factory: runtime.metricsFactory), logger: runtime.logger
        )
        TrainingsController(
            service: TrainingService(
                jobs: stores.jobs, datasets: stores.datasets, catalog: catalog, forms: training.forms, scheduler: jobScheduler,
                trainingBlobs: trainingBlobs, notifier: taskEvents, feedSettings: runtime.config.events,
                reservedOwners: Set(trainingSettings.reservedWorkers.values.flatMap { $0 }), maxUnfinishedPerTenant: trainingSettings.maxUnfinishedPerTenant,
                webhookTargets: webhookTargets
            )
        ).register(on: api)
        let intake = JobIntake(
            store: stores.jobs, datasets: stores.datasets, datasetBlobs: datasetBlobs, trainingBlobs: trainingBlobs, models: stores.models,
            digests: OpenSSLDigests(), scheduler: jobScheduler, limits: runtime.config.datasets
        )
        WorkerJobsController(
            intake: intake,
            limits: runtime.config.datasets,
            maxArtifactBytes: trainingSettings.maxArtifactBytes
        ).register(on: workerRoutes)
        WorkerAssetsController(intake: intake, images: images).register(on: workerRoutes)
        WorkersController(registry: workers, scheduler: scheduler, urls: runtime.config.workerURLs).register(on: workerRoutes)
        parts.apiRoutes(api)
        self.router = router

        let watcher = ConfigWatcher(config: runtime.config, live: settings, logger: runtime.logger)
        let housekeeping = Housekeeping(generations: generations, logger: runtime.logger)
        services = [scheduler, jobScheduler, webhooks, watcher, housekeeping] + parts.services
    }

    /// Runs the services and the HTTP server until SIGTERM. The server is listed last, so it
    /// stops first: `/readyz` turns 503 and requests drain while the scheduler, webhooks and
    /// housekeeping still run; they stop after it.
    public func run(_ runtime: Runtime) async throws {
        try await runtime.run(services: services + [runtime.httpServer(router: router)])
    }
}
