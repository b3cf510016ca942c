import Foundation
import JWTKit

/// The IdP's verification keys by `kid`, each with the one algorithm it signs with. A key set
/// per source (the JWKS file, the JWKS URL, the development key); a refresh replaces only its own.
actor SSOKeys {
    /// One key, alone in its collection: jwt-kit falls back to a collection's default key for an
    /// unknown `kid`, so a lookup here decides which key verifies, never jwt-kit.
    struct Key: Sendable {
        let algorithm: String
        let collection: JWTKeyCollection
    }

    private var bySource: [String: [String: Key]] = [:]

    func key(_ kid: String) -> Key? {
        for keys in bySource.values { if let key = keys[kid] { return key } }
        return nil
    }

    func replace(source: String, with keys: [String: Key]) {
        bySource[source] = keys
    }

    var count: Int { bySource.values.reduce(0) { $0 + $1.count } }

    /// The keys of a JWKS document: each needs a `kid` (a safe name, not seen before in the
    /// document) and an `alg` from `allowed`; others (a key type jwt-kit does not know among them)
    /// are skipped and named in `skipped`, so one odd key never costs the rest.
    static func parse(jwks bytes: [UInt8], allowed: Set<String>) async throws -> (keys: [String: Key], skipped: [String]) {
        guard let document = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any], let entries = document["keys"] as? [Any] else {
            throw SSOConfigError("not a JWKS: no \"keys\" array")
        }
        var keys: [String: Key] = [:]
        var skipped: [String] = []
        for entry in entries.prefix(100) {
            guard JSONSerialization.isValidJSONObject(entry), let data = try? JSONSerialization.data(withJSONObject: entry),
                let jwk = try? JSONDecoder().decode(JWK.self, from: data)
            else {
                skipped.append("a key this server cannot read (\((entry as? [String: Any])?["kty"] as? String ?? "no kty"))")
                continue
            }
            guard let kid = jwk.keyIdentifier?.string, TokenVerifier.isSafeKid(kid) else {
                skipped.append("a key without a usable kid")
                continue
            }
            guard keys[kid] == nil else {
                skipped.append("\(kid): a second key with this kid (the first is kept)")
                continue
            }
            guard let algorithm = jwk.algorithm?.rawValue, allowed.contains(algorithm) else {
                skipped.append("\(kid): alg \(jwk.algorithm?.rawValue ?? "missing") is not allowed")
                continue
            }
            do {
                let collection = JWTKeyCollection()
                try await collection.add(jwk: jwk)
                _ = try await collection.getKey(for: JWKIdentifier(string: kid), alg: algorithm)
                keys[kid] = Key(algorithm: algorithm, collection: collection)
            } catch {
                skipped.append("\(kid): \(error)")
            }
        }
        return (keys, skipped)
    }
}
