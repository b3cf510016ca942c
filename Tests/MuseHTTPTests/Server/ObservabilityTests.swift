import CoreMetrics
import MuseHTTP
import MuseTestSupport
import Prometheus
import Testing

/// The access log and Prometheus metrics filters, read back from a real server.
@Suite struct ObservabilityTests {
    let fixture = Fixture()

    @Test func oneAccessLogLinePerRequestWithRoutePatternAndRequestId() async throws {
        let logs = LogCapture()
        try await withTestServer(router: fixture.router(), filters: [AccessLogFilter(), ErrorResponseFilter()], logger: logs.logger()) { _, port in
            let client = try await RawHTTPClient(port: port)
            _ = try await client.request("GET", "/items/gen_42", headers: ["X-Request-Id": "req-1"])
            _ = try await client.request("GET", "/missing", headers: ["X-Request-Id": "req-2"])
        }
        let access = logs.lines.filter { $0.metadata["route"] != nil && $0.metadata["status"] != nil }
        #expect(access.count == 2)
        #expect(access[0].message.hasPrefix("GET /items/{id} 200 "))
        #expect(access[0].metadata["request_id"] == "req-1")
        #expect(access[0].metadata["duration_us"].flatMap(Int.init) != nil)
        #expect(access[1].message.hasPrefix("GET unmatched 404 "))
        #expect(access[1].metadata["request_id"] == "req-2")
    }

    @Test func requestsAreCountedByRouteAndStatusAndTimed() async throws {
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        let filters: [any Filter] = [MetricsFilter(factory: factory), ErrorResponseFilter()]
        try await withTestServer(router: fixture.router(), filters: filters) { _, port in
            let client = try await RawHTTPClient(port: port)
            for i in 0..<3 { _ = try await client.request("GET", "/items/\(i)") }
            _ = try await client.request("GET", "/boom")
            _ = try await client.request("PUT", "/items/1")
        }
        let text = registry.emitToString()
        #expect(text.contains(#"http_requests_total{route="/items/{id}",method="GET",status="200"} 3"#))
        #expect(text.contains(#"http_requests_total{route="/boom",method="GET",status="500"} 1"#))
        #expect(text.contains(#"http_requests_total{route="unmatched",method="PUT",status="405"} 1"#))
        #expect(text.contains(#"http_request_duration_seconds_count{route="/items/{id}"} 3"#))
        #expect(text.contains("http_requests_in_flight 0"))
    }
}
