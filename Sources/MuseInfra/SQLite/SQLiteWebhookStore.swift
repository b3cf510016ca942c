import Foundation
import MuseCore

/// `WebhookStore` on the embedded default's SQLite file.
public struct SQLiteWebhookStore: WebhookStore {
    let database: SQLiteDatabase

    public init(database: SQLiteDatabase) {
        self.database = database
    }

    public func secret(tenant: String, orCreate candidate: String) async throws -> String {
        try await database.transaction { db in
            if let secret = try db.query("SELECT secret FROM webhook_secrets WHERE tenant = ?", [.text(tenant)]).first?.text(0) { return secret }
            try db.execute("INSERT INTO webhook_secrets (tenant, secret, created_at) VALUES (?, ?, ?)", [.text(tenant), .text(candidate), Date().sqliteMillis])
            return candidate
        }
    }

    public func replaceSecret(tenant: String, with secret: String) async throws {
        try await database.transaction { db in
            try db.execute(
                "INSERT OR REPLACE INTO webhook_secrets (tenant, secret, created_at) VALUES (?, ?, ?)", [.text(tenant), .text(secret), Date().sqliteMillis]
            )
        }
    }

    private static let columns = "id, tenant, task_id, url, status, next_attempt_at, created_at, tries"

    public func due(now: Date, limit: Int) async throws -> [WebhookDelivery] {
        try await database.transaction { db in
            try db.query(
                "SELECT \(Self.columns) FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?",
                [now.sqliteMillis, .integer(Int64(limit))]
            ).map { Self.decode($0, attempts: []) }
        }
    }

    public func lease(id: String, now: Date, until: Date) async throws -> Bool {
        try await database.transaction { db in
            try db.execute(
                "UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ? AND status = 'pending' AND next_attempt_at <= ?",
                [until.sqliteMillis, .text(id), now.sqliteMillis]
            ) == 1
        }
    }

    public func record(deliveryID: String, attempt: WebhookAttempt, status: DeliveryStatus, next: Date?) async throws {
        try await database.transaction { db in
            try db.execute(
                "INSERT INTO webhook_attempts (delivery_id, at, status_code, latency_ms, error) VALUES (?, ?, ?, ?, ?)",
                [
                    .text(deliveryID), attempt.at.sqliteMillis, attempt.statusCode.map { .integer(Int64($0)) } ?? .null,
                    .integer(Int64(attempt.latencyMs)), attempt.error.map { .text($0) } ?? .null,
                ]
            )
            try db.execute(
                "UPDATE webhook_deliveries SET status = ?, tries = tries + 1, next_attempt_at = ? WHERE id = ?",
                [.text(status.rawValue), next.sqliteMillis, .text(deliveryID)]
            )
        }
    }

    public func delivery(id: String, tenant: String) async throws -> WebhookDelivery? {
        try await database.transaction { db in
            try db.query("SELECT \(Self.columns) FROM webhook_deliveries WHERE id = ? AND tenant = ?", [.text(id), .text(tenant)]).first
                .map { Self.decode($0, attempts: try Self.attempts(db, id)) }
        }
    }

    public func deliveries(tenant: String, taskID: String?, limit: Int, before: String?) async throws -> [WebhookDelivery] {
        var sql = "SELECT \(Self.columns) FROM webhook_deliveries WHERE tenant = ?"
        var values: [SQLiteValue] = [.text(tenant)]
        if let taskID {
            sql += " AND task_id = ?"
            values.append(.text(taskID))
        }
        if let before {
            sql += " AND id < ?"
            values.append(.text(before))
        }
        sql += " ORDER BY id DESC LIMIT ?"
        values.append(.integer(Int64(limit)))
        return try await database.transaction { [sql, values] db in
            try db.query(sql, values).map { Self.decode($0, attempts: try Self.attempts(db, $0.text(0))) }
        }
    }

    public func redeliver(id: String, tenant: String, now: Date) async throws -> WebhookDelivery? {
        try await database.transaction { db in
            // A pending delivery (waiting, or a try in flight) keeps its schedule: one try at a time.
            guard
                try db.execute(
                    "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ? WHERE id = ? AND tenant = ? AND status != 'pending'",
                    [now.sqliteMillis, .text(id), .text(tenant)]
                ) == 1
            else { return nil }
            return try db.query("SELECT \(Self.columns) FROM webhook_deliveries WHERE id = ? AND tenant = ?", [.text(id), .text(tenant)]).first
                .map { Self.decode($0, attempts: try Self.attempts(db, id)) }
        }
    }

    /// The latest tries (at most `WebhookDelivery.listedTries`), oldest first; `tries` counts them all.
    public func attempts(deliveryID: String, tenant: String, limit: Int, before: Int64?) async throws -> [(position: Int64, attempt: WebhookAttempt)]? {
        try await database.transaction { db in
            guard try db.query("SELECT 1 FROM webhook_deliveries WHERE id = ? AND tenant = ?", [.text(deliveryID), .text(tenant)]).first != nil else {
                return nil
            }
            return try db.query(
                "SELECT rowid, at, status_code, latency_ms, error FROM webhook_attempts WHERE delivery_id = ? AND rowid < ? ORDER BY rowid DESC LIMIT ?",
                [.text(deliveryID), .integer(before ?? Int64.max), .integer(Int64(limit))]
            ).map { row in
                (
                    position: Int64(row.int(0)),
                    attempt: WebhookAttempt(
                        at: row.date(1) ?? Date(timeIntervalSince1970: 0), statusCode: row.optionalInt(2), latencyMs: row.int(3), error: row.optionalText(4)
                    )
                )
            }
        }
    }

    public func postpone(ids: [String], until: Date) async throws {
        guard !ids.isEmpty else { return }
        try await database.transaction { db in
            for id in ids {
                try db.execute("UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ? AND status = 'pending'", [until.sqliteMillis, .text(id)])
            }
        }
    }

    private static func attempts(_ db: SQLiteConnection, _ id: String) throws -> [WebhookAttempt] {
        try db.query(
            "SELECT at, status_code, latency_ms, error FROM (SELECT rowid, * FROM webhook_attempts WHERE delivery_id = ? ORDER BY at DESC, rowid DESC LIMIT ?) ORDER BY at, rowid",
            [.text(id), .integer(Int64(WebhookDelivery.listedTries))]
        ).map { row in
            WebhookAttempt(
                at: row.date(0) ?? Date(timeIntervalSince1970: 0), statusCode: row.optionalInt(1), latencyMs: row.int(2), error: row.optionalText(3)
            )
        }
    }

    private static func decode(_ row: [SQLiteValue], attempts: [WebhookAttempt]) -> WebhookDelivery {
        WebhookDelivery(
            id: row.text(0), tenant: row.text(1), taskID: row.text(2), url: row.text(3), status: DeliveryStatus(rawValue: row.text(4)) ?? .failed,
            attempts: attempts, tries: row.int(7), nextAttemptAt: row.date(5), createdAt: row.date(6) ?? Date(timeIntervalSince1970: 0)
        )
    }
}

extension SQLiteWebhookStore {
    /// Writes a pending delivery, in the transaction of the change that made it (a task's or a
    /// job's final state), so that a crash cannot lose it.
    static func insert(_ delivery: WebhookDelivery, _ db: SQLiteConnection) throws {
        try db.execute(
            "INSERT INTO webhook_deliveries (id, tenant, task_id, url, status, next_attempt_at, created_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)",
            [
                .text(delivery.id), .text(delivery.tenant), .text(delivery.taskID), .text(delivery.url), delivery.nextAttemptAt.sqliteMillis,
                delivery.createdAt.sqliteMillis,
            ]
        )
    }
}
