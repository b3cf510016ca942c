import MuseCore
import MuseHTTP
import MuseInfra
import NIOCore
import Prometheus

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

    private static let ok = ByteBuffer(string: #"{"status":"ok"}"#)

    public func register(on routes: RouteGroup) {
        routes.get("/healthz") { _, _ in .bytes(Self.ok, contentType: "application/json") }
        routes.get("/readyz") { _, _ in try await ready() }
        routes.get("/metrics") { _, _ in
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
