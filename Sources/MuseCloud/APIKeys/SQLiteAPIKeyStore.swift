import Foundation
import MuseInfra

/// `APIKeyStore` on the embedded default's SQLite file.
public struct SQLiteAPIKeyStore: APIKeyStore {
    let database: SQLiteDatabase

    public init(database: SQLiteDatabase) {
        self.database = database
    }

    public func insert(_ key: APIKeyRecord) async throws {
        try await database.transaction { db in
            try db.execute(
                "INSERT INTO api_keys (id, tenant, secret_hash, created_at) VALUES (?, ?, ?, ?)",
                [.text(key.id), .text(key.tenant), .text(key.secretHash), key.createdAt.sqliteMillis]
            )
        }
    }

    public func key(secretHash: String) async throws -> APIKeyRecord? {
        try await database.transaction { db in
            try db.query("SELECT id, tenant, secret_hash, created_at FROM api_keys WHERE secret_hash = ?", [.text(secretHash)]).first.map {
                APIKeyRecord(id: $0.text(0), tenant: $0.text(1), secretHash: $0.text(2), createdAt: $0.date(3) ?? Date())
            }
        }
    }
}
