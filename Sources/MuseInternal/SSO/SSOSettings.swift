import Foundation
import MuseServer

/// How muse-internal trusts the company IdP: who issues tokens for whom, where its keys are,
/// which algorithms it signs with, and which claims name the caller.
struct SSOSettings: Sendable {
    var issuer: String
    var audience: String
    /// A JWKS file; read at start-up.
    var jwksFile: String
    /// A JWKS URL; fetched at start-up and refreshed (its `Cache-Control`, else every 10 minutes).
    var jwksURL: String
    /// Tolerance for `exp` and `nbf` against this server's clock.
    var clockSkew: TimeInterval
    /// Algorithms accepted at all; each key also names its own (`alg`), and a token must use it.
    var algorithms: Set<String>
    /// A development signing key in the data directory (`dev-token` signs with it).
    var devKey: Bool
    /// Claim names: id (the tenant of what the caller creates), name, email, department, teams,
    /// and the teams the caller administers (they manage its team keys).
    var claims: ClaimNames

    struct ClaimNames: Sendable {
        var id, name, email, department, teams, adminTeams: String
    }

    /// The algorithms this server verifies.
    static let supported: Set<String> = ["RS256", "ES256", "EdDSA"]

    static let keys: [ConfigKeySpec] = [
        .string("sso.issuer", default: "muse-internal-dev"),
        .string("sso.audience", default: "muse-internal"),
        .string("sso.jwks_file", default: ""),
        .string("sso.jwks_url", default: ""),
        .int("sso.clock_skew_ms", 0...600_000, default: 60_000),
        .string("sso.algorithms", default: "RS256, ES256, EdDSA"),
        .bool("sso.dev_key", default: true),
        .string("sso.claims.id", default: "sub"),
        .string("sso.claims.name", default: "name"),
        .string("sso.claims.email", default: "email"),
        .string("sso.claims.department", default: "department"),
        .string("sso.claims.teams", default: "teams"),
        .string("sso.claims.admin_teams", default: "admin_teams"),
    ]

    init(_ config: ProfileSettings) throws {
        issuer = config.string("sso.issuer")
        audience = config.string("sso.audience")
        jwksFile = config.string("sso.jwks_file")
        jwksURL = config.string("sso.jwks_url")
        clockSkew = Double(config.int("sso.clock_skew_ms")) / 1000
        algorithms = Set(config.string("sso.algorithms").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        devKey = config.bool("sso.dev_key")
        claims = ClaimNames(
            id: config.string("sso.claims.id"), name: config.string("sso.claims.name"), email: config.string("sso.claims.email"),
            department: config.string("sso.claims.department"), teams: config.string("sso.claims.teams"),
            adminTeams: config.string("sso.claims.admin_teams"))
        guard !algorithms.isEmpty, algorithms.isSubset(of: Self.supported) else {
            throw SSOConfigError("sso.algorithms: a comma-separated list of \(Self.supported.sorted().joined(separator: ", "))")
        }
        guard !issuer.isEmpty, !audience.isEmpty else { throw SSOConfigError("sso.issuer and sso.audience must not be empty") }
        if !jwksURL.isEmpty, !(jwksURL.hasPrefix("https://") || jwksURL.hasPrefix("http://")) {
            throw SSOConfigError("sso.jwks_url: an http or https URL")
        }
    }
}

/// A bad `sso.*` setting: start-up stops with this line.
struct SSOConfigError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
