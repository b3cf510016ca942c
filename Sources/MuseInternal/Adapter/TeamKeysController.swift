import MuseCore
import MuseHTTP
import MuseServer

/// `/v1/team-keys`: a team's admins make, list and revoke its service keys.
struct TeamKeysController: Sendable {
    let service: TeamKeyService

    struct CreateBody: Decodable {
        let team: String
        let name: String
    }

    struct KeyResource: Encodable {
        let id: String
        let team: String
        let name: String
        let createdBy: String
        let createdAt: String?
        /// Only in the answer to the create.
        let secret: String?

        init(_ key: TeamKey, secret: String? = nil) {
            id = key.id
            team = key.team
            name = key.name
            createdBy = key.createdBy
            createdAt = APITime.format(key.createdAt)
            self.secret = secret
        }

        enum CodingKeys: String, CodingKey {
            case id, team, name, secret
            case createdBy = "created_by"
            case createdAt = "created_at"
        }
    }

    struct KeyList: Encodable {
        let data: [KeyResource]
    }

    func register(on routes: RouteGroup) {
        routes.post("/v1/team-keys") { request, context in
            let user = try Self.user(context)
            let body = try JSONBody.decode(CreateBody.self, from: request)
            guard TokenVerifier.isSafeID(body.team) else { throw HTTPError.invalidField("team", "1 to 128 of A-Z a-z 0-9 . _ @ -") }
            guard DisplayText.isValid(body.name, maxScalars: 100) else {
                throw HTTPError.invalidField("name", "1 to 100 characters, no control, invisible or direction characters")
            }
            let (key, secret) = try await service.create(team: body.team, name: body.name, by: user)
            return try .json(KeyResource(key, secret: secret), status: .created)
        }
        routes.get("/v1/team-keys") { _, context in
            try .json(KeyList(data: try await service.keys(for: try Self.user(context)).map { KeyResource($0) }))
        }
        routes.delete("/v1/team-keys/{id}") { request, context in
            try await service.revoke(id: try request.parameters.require("id"), by: try Self.user(context))
            return Response(status: .noContent)
        }
    }

    /// A company user; a team key may not manage team keys (403).
    static func user(_ context: RequestContext) throws -> InternalPrincipal {
        let principal = try context.internalPrincipal()
        guard principal.kind == .user else { throw HTTPError(.permissionDenied, detail: "a team key cannot manage team keys") }
        return principal
    }
}

/// The team keys' one refusal the core's errors do not cover.
extension TeamAdminRequired: HTTPResponseError {
    var httpError: HTTPError? { HTTPError(.permissionDenied, detail: "only an admin of team \"\(team)\" may do this") }
}
