import MuseHTTP

/// A caller of muse-internal: a company user as the IdP's token names them, or a team's service
/// key. `id` owns what it creates (a user's id; `team:NAME` for a team key).
struct InternalPrincipal: Principal {
    enum Kind: String, Sendable {
        case user
        case teamKey = "team_key"
    }

    let id: String
    let name: String?
    let email: String?
    let department: String?
    let teams: [String]
    /// Teams whose admins may manage team keys: those the token lists as administered.
    let adminTeams: [String]
    let kind: Kind

    /// Team models and presets shared with a team are visible to its members.
    var groups: [String] { teams }
}

extension RequestContext {
    /// The caller as muse-internal's filter set it; 401 if none was (a route reached without it).
    func internalPrincipal() throws(HTTPError) -> InternalPrincipal {
        guard let principal = principal as? InternalPrincipal else { throw HTTPError(.unauthenticated, detail: "authentication required") }
        return principal
    }
}
