import HTTPTypes
import MuseCore
import MuseHTTP

/// The cloud binary's security filter: the operations routes are public; every other route
/// needs `Authorization: Bearer mk_…`. No API key store exists yet (it comes with the
/// generation pipeline), so until then every protected request is refused with 401.
struct CloudSecurityFilter: Filter {
    func handle(_ request: Request, context: RequestContext, next: Handler) async throws -> Response {
        if OperationsController.publicPaths.contains(request.path) { return try await next(request, context) }
        var headers = HTTPFields()
        headers[.wwwAuthenticate] = #"Bearer realm="muse""#
        guard let authorization = request.head.headerFields[.authorization], authorization.hasPrefix("Bearer mk_") else {
            throw HTTPError(.unauthenticated, detail: "send Authorization: Bearer mk_… (an API key)", headers: headers)
        }
        throw HTTPError(.unauthenticated, detail: "unknown API key", headers: headers)
    }
}
