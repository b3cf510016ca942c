import Foundation
import MuseCore

/// `IdempotencyStore` on the embedded default's SQLite file.
public struct SQLiteIdempotencyStore: IdempotencyStore {
    let database: SQLiteDatabase

    public init(database: SQLiteDatabase) {
        self.database = database
    }

    public func claim(tenant: String, key: String, bodyHash: String, now: Date, expiredBefore: Date, abandonedBefore: Date) async throws -> IdempotencyClaim {
        try await database.transaction { db in
            let row = try db.query(
                "SELECT body_hash, task_id, created_at FROM idempotency_keys WHERE tenant = ? AND key = ?", [.text(tenant), .text(key)]
            ).first
            if let row, (row.date(2) ?? .distantPast) >= expiredBefore {
                guard row.text(0) == bodyHash else { return .mismatch }
                if let taskID = row.optionalText(1) { return .done(taskID: taskID) }
                guard (row.date(2) ?? .distantPast) < abandonedBefore else { return .inProgress }
            }
            try db.execute(
                "INSERT OR REPLACE INTO idempotency_keys (tenant, key, body_hash, task_id, created_at) VALUES (?, ?, ?, NULL, ?)",
                [.text(tenant), .text(key), .text(bodyHash), now.sqliteMillis]
            )
            return .claimed
        }
    }

    public func release(tenant: String, key: String) async throws {
        try await database.transaction { db in
            try db.execute("DELETE FROM idempotency_keys WHERE tenant = ? AND key = ? AND task_id IS NULL", [.text(tenant), .text(key)])
        }
    }

    public func purge(before: Date) async throws -> Int {
        try await database.transaction { db in try db.execute("DELETE FROM idempotency_keys WHERE created_at < ?", [before.sqliteMillis]) }
    }
}
