/// Who a use case runs for: the tenant that owns what it creates, and the teams whose shared
/// objects (team models, presets shared with a team) it may see. A caller without teams sees only
/// public objects and its own.
public struct Caller: Sendable, Equatable {
    public let tenant: String
    public let teams: Set<String>

    public init(tenant: String, teams: Set<String> = []) {
        self.tenant = tenant
        self.teams = teams
    }
}
