import MuseHTTP
import NIOCore
import Prometheus

/// Something `/readyz` must find healthy (a store, a broker) besides the server not draining.
public protocol ReadinessCheck: Sendable {
    var name: String { get }
    func isReady() async -> Bool
}

/// `GET /healthz`, `GET /readyz`, `GET /metrics`: the unauthenticated operations routes.
public struct OperationsController: Sendable {
    let readiness: Readiness
    let checks: [any ReadinessCheck]
    let registry: PrometheusCollectorRegistry

    public init(readiness: Readiness, checks: [any ReadinessCheck] = [], registry: PrometheusCollectorRegistry) {
        self.readiness = readiness
        self.checks = checks
        self.registry = registry
    }

    /// The paths a security filter lets through without credentials.
    public static let publicPaths: Set<Substring> = ["/healthz", "/readyz", "/metrics", "/v1/openapi.yaml"]

    private static let ok = ByteBuffer(string: #"{"status":"ok"}"#)

    public func register(on router: Router) {
        router.get("/healthz") { _, _ in .bytes(Self.ok, contentType: "application/json") }
        router.get("/readyz") { _, _ in try await ready() }
        router.get("/metrics") { _, _ in
            .bytes(ByteBuffer(bytes: registry.emitToBuffer()), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
    }

    private func ready() async throws -> Response {
        guard !readiness.isDraining else {
            throw HTTPError(.unavailable, detail: "draining for shutdown")
        }
        for check in checks where await !check.isReady() {
            throw HTTPError(.unavailable, detail: "\(check.name) is not reachable")
        }
        return .bytes(Self.ok, contentType: "application/json")
    }
}
