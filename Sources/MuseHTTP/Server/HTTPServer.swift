import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Our HTTP/1.1 server on SwiftNIO, run as a `Service`: on graceful shutdown it turns
/// `/readyz` to 503, waits the drain delay, closes the listener, lets in-flight requests
/// finish up to the deadline, then closes what is left.
public final class HTTPServer: Service, Sendable {
    private struct ConnectionLimitReached: Error {}

    private let configuration: HTTPServerConfiguration
    private let router: Router
    private let group: any EventLoopGroup
    private let logger: Logger
    public let readiness: Readiness
    private let registry: ConnectionRegistry
    private let streamingBodies: StreamingBodies
    private let listener = Mutex<(any Channel)?>(nil)

    public init(
        configuration: HTTPServerConfiguration,
        router: Router,
        filters: FilterChain,
        group: any EventLoopGroup,
        readiness: Readiness = Readiness(),
        logger: Logger
    ) {
        self.configuration = configuration
        self.router = router.composed(with: filters)
        self.group = group
        self.readiness = readiness
        self.logger = logger
        self.registry = ConnectionRegistry(maxConnections: configuration.maxConnections)
        self.streamingBodies = StreamingBodies(limit: configuration.maxStreamingBodies, perCaller: configuration.maxStreamingBodiesPerCaller)
    }

    /// The bound address once `start` returned (port 0 binds a free port).
    public var localAddress: SocketAddress? {
        listener.withLock { $0?.localAddress }
    }

    /// Open connections now.
    public var connectionCount: Int { registry.count }

    /// Streaming uploads in flight now.
    public var streamingBodiesInFlight: Int { streamingBodies.inFlight }

    /// Binds the listener; requests are served from here on.
    public func start() async throws {
        guard listener.withLock({ $0 == nil }) else { return }
        let configuration = configuration
        let router = router
        let registry = registry
        let streamingBodies = streamingBodies
        let logger = logger
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                guard registry.admit(channel) else {
                    return channel.eventLoop.makeFailedFuture(ConnectionLimitReached())
                }
                return channel.eventLoop.makeCompletedFuture {
                    try Self.configurePipeline(channel, configuration: configuration, router: router, streamingBodies: streamingBodies, logger: logger)
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        listener.withLock { $0 = channel }
        logger.info("listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
    }

    private static func configurePipeline(
        _ channel: any Channel, configuration: HTTPServerConfiguration, router: Router, streamingBodies: StreamingBodies, logger: Logger
    ) throws {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderListSize = configuration.maxHeaderBytes
        limits.maxHeaderFieldSize = configuration.maxHeaderBytes
        let sync = channel.pipeline.syncOperations
        let timeouts = ConnectionTimeoutHandler(idleTimeout: configuration.idleTimeout, requestTimeout: configuration.requestTimeout)
        try sync.addHandler(timeouts)
        try sync.configureHTTPServerPipeline(
            withPipeliningAssistance: true,
            withErrorHandling: false,
            withOutboundHeaderValidation: false,
            withEncoderConfiguration: .init(),
            withDecoderLimitConfiguration: limits
        )
        try sync.addHandler(
            HTTPRequestHandler(
                router: router, maxBodyBytes: configuration.maxBodyBytes, streamingBodies: streamingBodies, logger: logger, timeouts: timeouts))
    }

    public func run() async throws {
        try await start()
        // Returns on graceful shutdown (SIGTERM) or throws on cancellation; drain either way.
        try? await gracefulShutdown()
        await shutdown()
    }

    /// Drains as on SIGTERM; returns when every connection is closed.
    public func shutdown() async {
        readiness.startDraining()
        logger.info("draining", metadata: ["drain_delay_ms": "\(configuration.drainDelay.nanoseconds / 1_000_000)"])
        try? await Task.sleep(for: .nanoseconds(configuration.drainDelay.nanoseconds))
        if let channel = listener.withLock({ $0 }) {
            try? await channel.close()
        }
        registry.quiesce()
        let registry = registry
        let deadline = configuration.shutdownDeadline
        let finished = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await registry.waitUntilEmpty()
                return true
            }
            group.addTask {
                try? await Task.sleep(for: .nanoseconds(deadline.nanoseconds))
                return false
            }
            let first = await group.next() ?? true
            if !first { registry.closeAll() }
            group.cancelAll()
            await group.waitForAll()
            return first
        }
        logger.info("stopped", metadata: ["in_flight_finished": "\(finished)"])
    }
}
