import HTTPTypes
import MuseHTTP

/// muse-internal's `/v1` check: `Authorization: Bearer <JWT>` from the company IdP, or a team's
/// service key `msk_…`, verified on the head before any body byte is read. Every refusal is the
/// same 401; its detail says why.
struct SSOSecurityFilter: HeadFilter {
    let verifier: TokenVerifier
    let teamKeys: TeamKeyService

    private static let challenge: HTTPFields = [.wwwAuthenticate: #"Bearer realm="muse-internal""#]

    func check(_ head: HTTPRequest, context: inout RequestContext) async throws {
        guard let token = head.bearerToken else {
            throw HTTPError(.unauthenticated, detail: "send Authorization: Bearer <token> (a company SSO token)", headers: Self.challenge)
        }
        if token.hasPrefix("msk_") {
            guard let team = try await teamKeys.principal(forSecret: token) else {
                throw HTTPError(.unauthenticated, detail: "unknown or revoked team key", headers: Self.challenge)
            }
            context.principal = team
            return
        }
        do {
            context.principal = try await verifier.principal(for: token)
        } catch {
            throw HTTPError(.unauthenticated, detail: "token refused: \(error.reason)", headers: Self.challenge)
        }
    }
}
