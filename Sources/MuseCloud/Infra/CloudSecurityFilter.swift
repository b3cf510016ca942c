import HTTPTypes
import MuseCore
import MuseHTTP
import MuseInfra
import MuseServer

/// The cloud binary's `/v1` group check: `Authorization: Bearer mk_…`, an API key whose tenant
/// becomes the request's principal. Runs on the head, before any body byte is read.
struct CloudSecurityFilter: HeadFilter {
    let keys: APIKeyService

    private static let challenge: HTTPFields = [.wwwAuthenticate: #"Bearer realm="muse""#]

    func check(_ head: HTTPRequest, context: inout RequestContext) async throws {
        guard let secret = head.bearerToken, secret.hasPrefix("mk_") else {
            throw HTTPError(.unauthenticated, detail: "send Authorization: Bearer mk_… (an API key)", headers: Self.challenge)
        }
        guard let tenant = try await keys.tenant(forSecret: String(secret)) else {
            throw HTTPError(.unauthenticated, detail: "unknown API key", headers: Self.challenge)
        }
        context.principal = TenantPrincipal(tenant: tenant)
    }
}
