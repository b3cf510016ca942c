import Foundation
import JWTKit

#if canImport(Glibc)
    import Glibc
#endif

/// The development signing key: an Ed25519 key in the data directory, made at first start when
/// `sso.dev_key` is on (the embedded default), so that `muse-internal` alone is usable with
/// `dev-token`. Its tokens are refused wherever the config turns it off (`config/internal.yaml`).
enum DevKey {
    static let kid = "muse-dev"

    static func path(dataDir: String) -> String { (dataDir as NSString).appendingPathComponent("sso-dev-key.pem") }

    /// The key, made if the file does not exist yet: created 0600 at once (never readable by
    /// others, not even for a moment), and a file that exists but cannot be read is an error,
    /// never silently replaced.
    static func loadOrCreate(dataDir: String) throws -> EdDSA.PrivateKey {
        let file = path(dataDir: dataDir)
        if FileManager.default.fileExists(atPath: file) {
            guard let pem = try? String(contentsOfFile: file, encoding: .utf8) else { throw SSOConfigError("cannot read the development key \(file)") }
            return try EdDSA.PrivateKey(pem: pem)
        }
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let key = try EdDSA.PrivateKey()
        let fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SSOConfigError("cannot create the development key \(file): errno \(errno)") }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        try handle.write(contentsOf: Data(key.pemRepresentation.utf8))
        try handle.synchronize()
        return key
    }

    /// The verification side: the public key, under its kid, for `EdDSA` only.
    static func verificationKey(_ key: EdDSA.PrivateKey) async throws -> SSOKeys.Key {
        let collection = JWTKeyCollection()
        await collection.add(eddsa: key.publicKey, kid: JWKIdentifier(string: kid))
        return SSOKeys.Key(algorithm: "EdDSA", collection: collection)
    }

    /// What a development token says.
    struct Payload: JWTPayload {
        var iss: String
        var aud: String
        var sub: String
        var name: String
        var teams: [String]
        var adminTeams: [String]
        var iat: Int
        var exp: Int

        enum CodingKeys: String, CodingKey {
            case iss, aud, sub, name, teams, iat, exp
            case adminTeams = "admin_teams"
        }

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    /// A token for `user` (and `teams`), valid for `lifetime`.
    static func sign(
        user: String, teams: [String], adminTeams: [String], settings: SSOSettings, key: EdDSA.PrivateKey, lifetime: TimeInterval
    ) async throws -> String {
        let collection = JWTKeyCollection()
        await collection.add(eddsa: key, kid: JWKIdentifier(string: kid))
        let now = Int(Date().timeIntervalSince1970)
        let claims = Payload(
            iss: settings.issuer, aud: settings.audience, sub: user, name: user, teams: teams, adminTeams: adminTeams, iat: now, exp: now + Int(lifetime))
        return try await collection.sign(claims, kid: JWKIdentifier(string: kid), header: ["typ": "JWT"])
    }
}
