import HTTPTypes
import MuseCore
import MuseHTTP

/// The cloud binary's security filter: the operations routes are public; every other route
/// needs `Authorization: Bearer mk_…`, an API key whose tenant becomes the request's principal.
/// `/internal/` is the workers' and was checked by `WorkerTokenFilter` before this one.
struct CloudSecurityFilter: Filter {
    let keys: APIKeyService

    func handle(_ request: Request, context: RequestContext, next: Handler) async throws -> Response {
        if OperationsController.publicPaths.contains(request.path) || request.path.hasPrefix("/internal/") {
            return try await next(request, context)
        }
        var headers = HTTPFields()
        headers[.wwwAuthenticate] = #"Bearer realm="muse""#
        guard let authorization = request.head.headerFields[.authorization], authorization.hasPrefix("Bearer mk_") else {
            throw HTTPError(.unauthenticated, detail: "send Authorization: Bearer mk_… (an API key)", headers: headers)
        }
        guard let tenant = try await keys.tenant(forSecret: String(authorization.dropFirst("Bearer ".count))) else {
            throw HTTPError(.unauthenticated, detail: "unknown API key", headers: headers)
        }
        var context = context
        context.principal = TenantPrincipal(tenant: tenant)
        return try await next(request, context)
    }
}
