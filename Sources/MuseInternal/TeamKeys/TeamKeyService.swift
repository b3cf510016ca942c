import Foundation
import MuseCore
import MuseInfra

/// Team service keys: made and revoked by the team's admins, shown once, checked by hash.
final class TeamKeyService: Sendable {
    let store: any TeamKeyStore

    init(store: any TeamKeyStore) {
        self.store = store
    }

    /// A new key of `team`, named `name`, by `user`; the secret `msk_…` is in the answer only.
    /// A member who is not an admin may not (403); anyone else does not see the team (404).
    func create(team: String, name: String, by user: InternalPrincipal) async throws -> (key: TeamKey, secret: String) {
        try Self.requireAdmin(of: team, user)
        let secret = Digest.newSecret(prefix: "msk_")
        let key = TeamKey(
            id: IDGenerator.make("tkey"), team: team, name: name, secretHash: Digest.secretHash(secret), createdBy: user.id, createdAt: Date(), revokedAt: nil)
        try await store.insert(key)
        return (key, secret)
    }

    /// The live keys of the teams `user` administers.
    func keys(for user: InternalPrincipal) async throws -> [TeamKey] {
        try await store.keys(teams: Set(user.adminTeams))
    }

    /// Revokes a key of a team `user` administers; 404 for any other id.
    func revoke(id: String, by user: InternalPrincipal) async throws {
        guard try await store.revoke(id: id, teams: Set(user.adminTeams), at: Date()) != nil else {
            throw ServiceError.notFound("no team key \"\(id)\"")
        }
    }

    /// The principal a presented secret stands for; nil for an unknown or revoked key. Read each
    /// time (an indexed lookup): a revoke applies to the next request.
    func principal(forSecret secret: Substring) async throws -> InternalPrincipal? {
        guard secret.utf8.count <= 128, let key = try await store.key(secretHash: Digest.secretHash(secret)) else { return nil }
        return InternalPrincipal(
            id: "team:" + key.team, name: key.name, email: nil, department: nil, teams: [key.team], adminTeams: [], kind: .teamKey)
    }

    static func requireAdmin(of team: String, _ user: InternalPrincipal) throws {
        guard user.kind == .user, user.teams.contains(team) else { throw ServiceError.notFound("no team \"\(team)\"") }
        guard user.adminTeams.contains(team) else { throw TeamAdminRequired(team: team) }
    }
}

/// A member asked for what only the team's admins may do (403).
struct TeamAdminRequired: Error {
    let team: String
}
