import Foundation

/// A team's service key (`msk_…`) for a business system: it acts as the team, never as a user.
/// Only the SHA-256 of its secret is kept.
struct TeamKey: Sendable, Equatable {
    var id: String
    var team: String
    var name: String
    /// Lower-case hex SHA-256 of the secret.
    var secretHash: String
    /// The user who made it.
    var createdBy: String
    var createdAt: Date
    var revokedAt: Date?
}

/// Where team keys live.
protocol TeamKeyStore: Sendable {
    func insert(_ key: TeamKey) async throws
    /// The live (not revoked) key with this hash.
    func key(secretHash: String) async throws -> TeamKey?
    /// Live keys of these teams, newest first.
    func keys(teams: Set<String>) async throws -> [TeamKey]
    /// Revokes a live key of one of `teams`; nil if there is none.
    func revoke(id: String, teams: Set<String>, at: Date) async throws -> TeamKey?
}
