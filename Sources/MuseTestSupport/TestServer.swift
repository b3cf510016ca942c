import Logging
import MuseHTTP
import NIOCore
import NIOPosix

extension HTTPServerConfiguration {
    /// Loopback on a free port, short timeouts, no drain delay.
    public static var test: HTTPServerConfiguration {
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        configuration.drainDelay = .zero
        configuration.shutdownDeadline = .seconds(5)
        return configuration
    }
}

/// Starts a real server on a free loopback port, runs `body` with it and its port, then drains it.
public func withTestServer<T>(
    configuration: HTTPServerConfiguration = .test,
    router: Router,
    filters: [any Filter] = [ErrorResponseFilter()],
    logger: Logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
    _ body: (HTTPServer, Int) async throws -> T
) async throws -> T {
    let server = HTTPServer(
        configuration: configuration, router: router, filters: FilterChain(filters),
        group: MultiThreadedEventLoopGroup.singleton, logger: logger
    )
    try await server.start()
    let port = server.localAddress!.port!
    do {
        let result = try await body(server, port)
        await server.shutdown()
        return result
    } catch {
        await server.shutdown()
        throw error
    }
}
