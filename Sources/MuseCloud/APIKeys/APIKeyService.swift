import Foundation
import MuseCore
import MuseInfra
import MuseServer
import Synchronization

/// Creates cloud API keys and checks them. The secret is shown once; only its SHA-256 is kept.
public final class APIKeyService: Sendable {
    private let store: any APIKeyStore
    // Hashes already checked against the store; keys are never revoked yet, so a hit stays valid.
    private let known = Mutex<[String: String]>([:])

    public init(store: any APIKeyStore) {
        self.store = store
    }

    /// A new key for `tenant`: the record as stored and the secret `mk_…` to hand out once.
    public func create(tenant: String) async throws -> (record: APIKeyRecord, secret: String) {
        let secret = Digest.newSecret(prefix: "mk_")
        let record = APIKeyRecord(id: IDGenerator.make("key"), tenant: tenant, secretHash: Digest.secretHash(secret), createdAt: Date())
        try await store.insert(record)
        return (record, secret)
    }

    /// The tenant a secret belongs to, or nil for an unknown key.
    public func tenant(forSecret secret: String) async throws -> String? {
        let hash = Digest.secretHash(secret)
        if let tenant = known.withLock({ $0[hash] }) { return tenant }
        guard let record = try await store.key(secretHash: hash) else { return nil }
        known.withLock { $0[hash] = record.tenant }
        return record.tenant
    }
}
