import HTTPTypes
import Testing

@testable import MuseHTTP

@Suite struct RouterTests {
    let router: Router = {
        let router = Router()
        router.get("/v1/generations") { _, _ in Response(status: .ok) }
        router.post("/v1/generations") { _, _ in Response(status: .accepted) }
        router.get("/v1/generations/{id}") { _, _ in Response(status: .ok) }
        router.post("/v1/generations/{id}/cancel") { _, _ in Response(status: .ok) }
        router.get("/v1/generations/stats") { _, _ in Response(status: .ok) }
        return router
    }()

    @Test func staticAndParameterSegments() {
        guard case .found(let route, let parameters) = router.resolve(.get, "/v1/generations/gen_123") else {
            Issue.record("no route")
            return
        }
        #expect(route.pattern == "/v1/generations/{id}")
        #expect(parameters["id"] == "gen_123")
    }

    @Test func staticSegmentWinsOverParameter() {
        guard case .found(let route, _) = router.resolve(.get, "/v1/generations/stats") else {
            Issue.record("no route")
            return
        }
        #expect(route.pattern == "/v1/generations/stats")
    }

    @Test func unknownPathIsNotFound() {
        guard case .notFound = router.resolve(.get, "/v1/nothing/here") else {
            Issue.record("expected notFound")
            return
        }
    }

    @Test func wrongMethodListsAllowed() {
        guard case .methodNotAllowed(let allow) = router.resolve(.delete, "/v1/generations") else {
            Issue.record("expected methodNotAllowed")
            return
        }
        #expect(allow.map(\.rawValue) == ["GET", "POST", "HEAD"])
    }

    @Test func headFallsBackToGet() {
        guard case .found(let route, _) = router.resolve(.head, "/v1/generations/gen_1") else {
            Issue.record("no route")
            return
        }
        #expect(route.pattern == "/v1/generations/{id}")
    }

    @Test func trailingSlashAndDoubleSlashesMatchTheSameRoute() {
        guard case .found = router.resolve(.post, "/v1/generations/gen_1/cancel/") else {
            Issue.record("no route")
            return
        }
    }
}
