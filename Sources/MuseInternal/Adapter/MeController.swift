import MuseCore
import MuseHTTP

/// `GET /v1/me`: who the token says the caller is, their teams, and the limits that apply to them.
struct MeController: Sendable {
    /// Read on each call: a config reload's limits show at once.
    let settings: LiveSettings

    struct Me: Encodable {
        let id: String
        let name: String?
        let email: String?
        let department: String?
        let teams: [String]
        let adminTeams: [String]
        /// `user`, or `team_key` for a team's service key.
        let kind: String
        let limits: Limits

        enum CodingKeys: String, CodingKey {
            case id, name, email, department, teams, kind, limits
            case adminTeams = "admin_teams"
        }

        struct Limits: Encodable {
            let maxPromptChars: Int
            let maxSteps: Int
            let maxNumImages: Int
            let maxLoras: Int

            enum CodingKeys: String, CodingKey {
                case maxPromptChars = "max_prompt_chars"
                case maxSteps = "max_steps"
                case maxNumImages = "max_num_images"
                case maxLoras = "max_loras"
            }
        }
    }

    func register(on routes: RouteGroup) {
        routes.get("/v1/me") { _, context in
            let user = try context.internalPrincipal()
            let limits = settings.current.limits
            return try .json(
                Me(
                    id: user.id, name: user.name, email: user.email, department: user.department, teams: user.teams, adminTeams: user.adminTeams,
                    kind: user.kind.rawValue,
                    limits: .init(
                        maxPromptChars: limits.maxPromptChars, maxSteps: limits.maxSteps, maxNumImages: limits.maxNumImages, maxLoras: limits.maxLoRAs)))
        }
    }
}
