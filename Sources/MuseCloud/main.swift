import ArgumentParser
import MuseCore
import MuseHTTP

/// `muse-cloud`: the Muse server for public users and partner platforms.
struct MuseCloud: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "muse-cloud",
        abstract: "Muse image generation backend (cloud profile).",
        subcommands: [Serve.self, MigrateCommand.self, ModelsCommand.self, KeysCommand.self],
        defaultSubcommand: Serve.self
    )
}

/// `muse-cloud serve`: the services this binary runs.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP server (the default).")

    @OptionGroup var options: ServeOptions

    func run() async throws {
        let runtime = Runtime(config: try await options.loadConfig(), label: "muse-cloud")
        let taskEvents = LocalTaskEventNotifier()
        let stores = try await EmbeddedStores.open(
            dataDir: runtime.config.dataDir, pool: runtime.blockingPool, notifier: taskEvents, metrics: SQLiteMetrics(factory: runtime.metricsFactory)
        )
        let catalog = CatalogService(store: stores.models)
        try await catalog.importIfEmpty(runtime.config.catalogFile)
        let keys = APIKeyService(store: stores.apiKeys)
        let images = try FileBlobStore(directory: runtime.config.dataDir + "/images", pool: runtime.blockingPool)
        let workerToken = try WorkerToken.resolve(configured: runtime.config.workerToken, dataDir: runtime.config.dataDir)
        let workers = WorkerRegistry()
        let pipelineMetrics = PipelineMetrics(factory: runtime.metricsFactory)
        let settings = LiveSettings(runtime.config.dynamic)
        let webhookTargets = WebhookTargets(policy: runtime.config.webhookTargets, resolver: SystemHostResolver(pool: runtime.blockingPool))
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
            submitted: scheduler.wakeUp, canceledOnWorker: scheduler.canceled, metrics: pipelineMetrics
        )

        // Webhook tries get their own threads: a hanging receiver holds one of these, never a worker push.
        let webhooks = WebhookDispatcher(
            store: stores.webhooks, tasks: stores.tasks, sender: CurlWebhookSender(pool: BlockingPool(threads: runtime.config.webhooks.concurrency)), targets: webhookTargets,
            settings: runtime.config.webhooks, render: TaskJSON.encode, metrics: WebhookMetrics(factory: runtime.metricsFactory), logger: runtime.logger
        )

        let router = Router()
        OperationsController(readiness: runtime.readiness, checks: [SQLiteReadiness(database: stores.database)], registry: runtime.metricsRegistry)
            .register(on: router)
        let feed = TaskEventFeed(generations: generations, events: stores.tasks, notifier: taskEvents, keepAlive: runtime.config.eventsKeepAlive)
        GenerationsController(service: generations, feed: feed).register(on: router)
        OpenAPIController(path: runtime.config.openAPIFile, logger: runtime.logger).register(on: router)
        PresetsController(service: PresetService(presets: stores.presets, tasks: stores.tasks, generations: generations)).register(on: router)
        ModelsController(catalog: catalog).register(on: router)
        WebhooksController(service: WebhookService(store: stores.webhooks, tasks: stores.tasks)).register(on: router)
        ImagesController(store: stores.tasks, images: images).register(on: router)
        WorkersController(registry: workers, scheduler: scheduler).register(on: router)

        let server = runtime.httpServer(
            router: router, profileFilters: [WorkerTokenFilter(token: workerToken), CloudSecurityFilter(keys: keys)]
        )

        let watcher = ConfigWatcher(config: runtime.config, live: settings, logger: runtime.logger)
        let housekeeping = Housekeeping(generations: generations, logger: runtime.logger)
        try await runtime.run(services: [server, scheduler, webhooks, watcher, housekeeping])
    }
}

await CommandEntry.run(MuseCloud.self)
