import HTTPTypes
import MuseCore
import MuseHTTP
import MuseInfra
import MuseServer

/// The internal binary's `/v1` group check: `Authorization: Bearer <JWT from the IdP>` or a team
/// key `msk_…`. Token verification (JWKS, RS256/ES256) comes with the SSO work, so until then
/// every request to the group is refused with 401.
struct InternalSecurityFilter: HeadFilter {
    private static let challenge: HTTPFields = [.wwwAuthenticate: #"Bearer realm="muse-internal""#]

    func check(_ head: HTTPRequest, context: inout RequestContext) async throws {
        guard head.bearerToken != nil else {
            throw HTTPError(.unauthenticated, detail: "send Authorization: Bearer <token from the company IdP>", headers: Self.challenge)
        }
        throw HTTPError(.unauthenticated, detail: "token not accepted", headers: Self.challenge)
    }
}
