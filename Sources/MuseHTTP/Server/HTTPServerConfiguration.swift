import NIOCore

/// Where the server listens and the limits it enforces on every connection.
public struct HTTPServerConfiguration: Sendable {
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// Bodies larger than this are refused with 413 unless a route sets its own limit.
    public var maxBodyBytes: Int = 1 << 20
    /// Request line plus header fields; larger is refused with 431.
    public var maxHeaderBytes: Int = 32 * 1024
    /// A keep-alive connection with no request for this long is closed.
    public var idleTimeout: TimeAmount = .seconds(60)
    /// A request must arrive whole (head and body) within this time of its first byte.
    public var requestTimeout: TimeAmount = .seconds(30)
    /// Connections beyond this are closed as soon as they are accepted.
    public var maxConnections: Int = 10_000
    /// Streaming uploads (routes with `streaming: true`) in flight at once; another is answered
    /// 503 with `Retry-After` before its body is read.
    public var maxStreamingBodies: Int = 256
    /// Of those, at most this many for one caller (the principal the route's checks found).
    public var maxStreamingBodiesPerCaller: Int = 16
    /// On shutdown: how long `/readyz` says 503 before the listener closes, so load balancers stop sending.
    public var drainDelay: TimeAmount = .seconds(5)
    /// On shutdown: how long in-flight requests may take to finish before connections are closed.
    public var shutdownDeadline: TimeAmount = .seconds(25)

    public init() {}
}
