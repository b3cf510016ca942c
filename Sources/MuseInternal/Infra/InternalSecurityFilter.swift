import HTTPTypes
import MuseCore
import MuseHTTP

/// The internal binary's security filter: the operations routes are public; every other route
/// needs `Authorization: Bearer <JWT from the IdP>` or a team key `msk_…`. Token verification
/// (JWKS, RS256/ES256) comes with the SSO work, so until then every protected request is refused with 401.
struct InternalSecurityFilter: Filter {
    func handle(_ request: Request, context: RequestContext, next: Handler) async throws -> Response {
        if OperationsController.publicPaths.contains(request.path) { return try await next(request, context) }
        var headers = HTTPFields()
        headers[.wwwAuthenticate] = #"Bearer realm="muse-internal""#
        guard let authorization = request.head.headerFields[.authorization], authorization.hasPrefix("Bearer ") else {
            throw HTTPError(.unauthenticated, detail: "send Authorization: Bearer <token from the company IdP>", headers: headers)
        }
        throw HTTPError(.unauthenticated, detail: "token not accepted", headers: headers)
    }
}
