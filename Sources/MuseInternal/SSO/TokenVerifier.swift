import Foundation
import JWTKit
import MuseJSON

/// Turns `Authorization: Bearer <JWT>` into a principal, or says why not. The header is read by
/// hand first (bounded, strict), so that the key and algorithm are chosen here; jwt-kit then
/// verifies the signature with that key alone; the claims are checked against the config.
struct TokenVerifier: Sendable {
    let settings: SSOSettings
    let keys: SSOKeys
    /// Asked to refetch the JWKS when a token names an unknown `kid` (it limits itself).
    let refresh: @Sendable () async -> Void
    /// Tokens verified in the last minute.
    let verified = VerifiedTokens()

    /// Why a token was refused (the 401's detail).
    struct Refusal: Error, Equatable {
        let reason: String
        init(_ reason: String) { self.reason = reason }
    }

    static let maxTokenBytes = 8192

    func principal(for token: Substring, now: Date = Date()) async throws(Refusal) -> InternalPrincipal {
        guard token.utf8.count <= Self.maxTokenBytes else { throw Refusal("token too long") }
        if let known = verified.principal(for: token, now: now) { return known }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        // Three non-empty segments of the base64url alphabet, unpadded: one spelling per token.
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(Self.isBase64URL) }) else { throw Refusal("malformed token") }
        let header = try Self.header(parts[0])
        guard settings.algorithms.contains(header.alg) else { throw Refusal("algorithm \(header.alg) is not accepted") }
        var found = await keys.key(header.kid)
        if found == nil {
            await refresh()
            found = await keys.key(header.kid)
        }
        guard let key = found else { throw Refusal("unknown key id") }
        guard key.algorithm == header.alg else { throw Refusal("the key does not sign with \(header.alg)") }
        let claims: TokenClaims
        do {
            claims = try await key.collection.verify(String(token), as: TokenClaims.self)
        } catch {
            throw Refusal("invalid signature")
        }
        let principal = try check(claims, now: now)
        if let exp = claims.number("exp") {
            verified.remember(token, principal, expiresAt: Date(timeIntervalSince1970: exp + settings.clockSkew), now: now)
        }
        return principal
    }

    private func check(_ claims: TokenClaims, now: Date) throws(Refusal) -> InternalPrincipal {
        guard claims.string("iss") == settings.issuer else { throw Refusal("wrong issuer") }
        guard claims.strings("aud")?.contains(settings.audience) == true else { throw Refusal("wrong audience") }
        guard let exp = claims.number("exp") else { throw Refusal("no expiry") }
        let time = now.timeIntervalSince1970
        guard time <= exp + settings.clockSkew else { throw Refusal("expired") }
        if let nbf = claims.values["nbf"] {
            guard case .number(let notBefore) = nbf, time >= notBefore - settings.clockSkew else { throw Refusal("not valid yet") }
        }
        let names = settings.claims
        guard let id = claims.string(names.id), Self.isSafeID(id) else { throw Refusal("no usable \(names.id) claim") }
        let teams = Array((claims.strings(names.teams) ?? []).prefix(100).filter(Self.isSafeID))
        // An admin of a team is one of its members.
        let adminTeams = (claims.strings(names.adminTeams) ?? []).prefix(100).filter { teams.contains($0) }
        return InternalPrincipal(
            id: id, name: claims.string(names.name).map { String($0.prefix(200)) }, email: claims.string(names.email).map { String($0.prefix(320)) },
            department: claims.string(names.department).map { String($0.prefix(200)) }, teams: teams, adminTeams: Array(adminTeams), kind: .user)
    }

    struct Header {
        let alg: String
        let kid: String
    }

    /// The JOSE header: `alg` and `kid` required, `typ` absent or JWT, no `crit` (no extension is understood).
    static func header(_ encoded: Substring) throws(Refusal) -> Header {
        guard encoded.utf8.count <= 2048, let bytes = base64URLDecode(encoded) else { throw Refusal("malformed token header") }
        guard case .object(let fields)? = try? JSON.parse(bytes) else { throw Refusal("malformed token header") }
        func text(_ name: String) -> String? {
            fields.first { $0.0 == name }.flatMap { if case .string(let value) = $0.1 { value } else { nil } }
        }
        guard let alg = text("alg") else { throw Refusal("no algorithm") }
        guard let kid = text("kid") else { throw Refusal("no key id") }
        guard isSafeKid(kid) else { throw Refusal("malformed key id") }
        if fields.contains(where: { $0.0 == "typ" }) {
            guard text("typ")?.uppercased() == "JWT" else { throw Refusal("not a JWT (typ)") }
        }
        guard !fields.contains(where: { $0.0 == "crit" }) else { throw Refusal("unsupported critical header") }
        return Header(alg: alg, kid: kid)
    }

    /// 1–128 of `A-Za-z0-9._-`: a key id is looked up, never used as a path or URL.
    static func isSafeKid(_ kid: String) -> Bool {
        (1...128).contains(kid.utf8.count)
            && kid.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    /// A user or team id: 1–128 of `A-Za-z0-9._@-`.
    static func isSafeID(_ id: String) -> Bool {
        (1...128).contains(id.utf8.count)
            && id.utf8.allSatisfy { isAlphanumeric($0) || [UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "@")].contains($0) }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    static func isBase64URL(_ byte: UInt8) -> Bool {
        isAlphanumeric(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }

    /// Unpadded base64url (RFC 7515), strictly.
    static func base64URLDecode(_ text: Substring) -> [UInt8]? {
        guard text.utf8.allSatisfy(isBase64URL), text.utf8.count % 4 != 1 else {
            return nil
        }
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        standard += String(repeating: "=", count: (4 - standard.utf8.count % 4) % 4)
        return Data(base64Encoded: standard).map(Array.init)
    }
}
