import HTTPTypes
import Testing

@testable import MuseHTTP

@Suite struct RouterTests {
    struct Refuse: HeadFilter {
        func check(_ head: HTTPRequest, context: inout RequestContext) async throws {
            throw HTTPError(.unauthenticated, detail: "no")
        }
    }

    let router: Router = {
        let router = Router()
        let api = router.group("/v1", name: "api", filters: [Refuse()])
        api.get("/v1/generations") { _, _ in Response(status: .ok) }
        api.post("/v1/generations") { _, _ in Response(status: .accepted) }
        api.get("/v1/generations/{id}") { _, _ in Response(status: .ok) }
        api.post("/v1/generations/{id}/cancel") { _, _ in Response(status: .ok) }
        api.get("/v1/generations/stats") { _, _ in Response(status: .ok) }
        router.group("", name: "public").get("/healthz") { _, _ in Response(status: .ok) }
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

    @Test func aRouteCarriesItsGroupsFilters() {
        guard case .found(let guarded, _) = router.resolve(.get, "/v1/generations/gen_1"),
            case .found(let open, _) = router.resolve(.get, "/healthz")
        else {
            Issue.record("no route")
            return
        }
        #expect(guarded.group == "api" && guarded.filters.count == 1)
        #expect(open.group == "public" && open.filters.isEmpty)
    }

    @Test func theRouteTableListsEveryRouteWithItsGroup() {
        #expect(
            router.routes.map { "\($0.method.rawValue) \($0.pattern) \($0.group)" } == [
                "GET /v1/generations api", "POST /v1/generations api", "GET /v1/generations/{id} api",
                "POST /v1/generations/{id}/cancel api", "GET /v1/generations/stats api", "GET /healthz public",
            ])
        #expect(router.table.contains("POST    /v1/generations/{id}/cancel  api\n"))
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

    @Test func theQueryIsNotPartOfThePath() {
        guard case .found(let route, _) = router.resolve(.get, "/v1/generations?limit=2&x=/..//") else {
            Issue.record("no route")
            return
        }
        #expect(route.pattern == "/v1/generations")
    }

    @Test(arguments: [
        "//v1/generations", "/v1//generations", "/v1/generations/", "/v1/./generations", "/v1/../v1/generations",
        "/v1/%2e/generations", "/v1/%2E%2e/v1/generations", "/v1%2fgenerations", "/v1%2Fgenerations", "/v1/generations%5cx",
        "/v1\\generations", "/v1/generations/a%00b", "v1/generations", "*", "", "/.", "/..",
    ])
    func nonCanonicalPathsAreRefused(_ path: String) {
        guard case .invalidPath = router.resolve(.get, path[...]) else {
            Issue.record("\(path) was not refused")
            return
        }
    }

    @Test(arguments: ["/V1/generations", "/v1/Generations", "/v1/%67enerations", "/v1/generations/..."])
    func otherSpellingsRouteNowhere(_ path: String) {
        if case .found(let route, _) = router.resolve(.get, path[...]), route.pattern != "/v1/generations/{id}" {
            Issue.record("\(path) reached \(route.pattern)")
        }
    }

    @Test func theRootPathIsCanonical() {
        guard case .notFound = router.resolve(.get, "/") else {
            Issue.record("expected notFound for /")
            return
        }
    }
}
