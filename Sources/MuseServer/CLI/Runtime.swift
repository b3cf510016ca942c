import Logging
import Metrics
import MuseCore
import MuseHTTP
import MuseInfra
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle

/// What every binary's `serve` shares: logging, event loops, the blocking pool, metrics,
/// readiness, and the service group that runs the binary's services until SIGTERM.
public final class Runtime: Sendable {
    public let config: MuseConfig
    public let logger: Logger
    public let eventLoops: MultiThreadedEventLoopGroup
    public let blockingPool: BlockingPool
    private let threadPool: NIOThreadPool
    /// Outbound HTTP calls (libcurl) wait on other machines: their own threads, so a slow peer
    /// never holds up database work.
    public let outboundHTTPPool: BlockingPool
    private let httpThreads: NIOThreadPool
    public let metricsRegistry: PrometheusCollectorRegistry
    public let metricsFactory: PrometheusMetricsFactory
    public let readiness = Readiness()
    private let logWriter = LogWriter()

    public init(config: MuseConfig, label: String) {
        self.config = config
        let level = config.logLevel
        let writer = logWriter
        LoggingSystem.bootstrap { _ in LineLogHandler(label: label, level: level, writer: writer) }
        var logger = Logger(label: label)
        logger.logLevel = level
        self.logger = logger
        let threads = config.eventLoopThreads == 0 ? System.coreCount : config.eventLoopThreads
        eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        threadPool = NIOThreadPool(numberOfThreads: max(4, System.coreCount))
        threadPool.start()
        blockingPool = BlockingPool(pool: threadPool)
        httpThreads = NIOThreadPool(numberOfThreads: 16)
        httpThreads.start()
        outboundHTTPPool = BlockingPool(pool: httpThreads)
        metricsRegistry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: metricsRegistry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10),
        ]
        metricsFactory = factory
    }

    /// Where workers call back: `worker.callback_url`, else this server's own address.
    public var callbackBaseURL: String {
        config.workerCallbackURL.isEmpty ? "http://\(config.server.host):\(config.server.port)" : config.workerCallbackURL
    }

    /// The HTTP server on this runtime's config, event loops and readiness. Every request passes
    /// the standard filters (access log, metrics, errors → problem+json); who may call a route
    /// is decided by the group it was registered in.
    public func httpServer(router: Router) -> HTTPServer {
        var filters: [any Filter] = []
        if config.accessLog { filters.append(AccessLogFilter()) }
        filters.append(MetricsFilter(factory: metricsFactory))
        filters.append(ErrorResponseFilter())
        return HTTPServer(
            configuration: config.server,
            router: router,
            filters: FilterChain(filters),
            group: eventLoops,
            readiness: readiness,
            logger: logger
        )
    }

    /// Runs the services until SIGTERM or SIGINT, then shuts them down in reverse order.
    public func run(services: [any Service]) async throws {
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            ))
        try await group.run()
        try await threadPool.shutdownGracefully()
        try await httpThreads.shutdownGracefully()
        try await eventLoops.shutdownGracefully()
        logger.info("exited cleanly")
        logWriter.flush()
    }
}
