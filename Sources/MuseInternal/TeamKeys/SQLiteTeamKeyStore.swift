import Foundation
import MuseInfra

/// `TeamKeyStore` on the embedded default's SQLite file.
struct SQLiteTeamKeyStore: TeamKeyStore {
    let database: SQLiteDatabase

    static let columns = "id, team, name, secret_hash, created_by, created_at, revoked_at"

    func insert(_ key: TeamKey) async throws {
        try await database.transaction { db in
            try db.execute(
                "INSERT INTO team_keys (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?, NULL)",
                [.text(key.id), .text(key.team), .text(key.name), .text(key.secretHash), .text(key.createdBy), key.createdAt.sqliteMillis])
        }
    }

    func key(secretHash: String) async throws -> TeamKey? {
        try await database.transaction { db in
            try db.query("SELECT \(Self.columns) FROM team_keys WHERE secret_hash = ? AND revoked_at IS NULL", [.text(secretHash)]).first.map(Self.decode)
        }
    }

    func keys(teams: Set<String>) async throws -> [TeamKey] {
        guard !teams.isEmpty else { return [] }
        let list = teams.sorted()
        return try await database.transaction { db in
            try db.query(
                "SELECT \(Self.columns) FROM team_keys WHERE revoked_at IS NULL AND team IN (\(list.map { _ in "?" }.joined(separator: ", "))) ORDER BY id DESC LIMIT 1000",
                list.map { .text($0) }
            ).map(Self.decode)
        }
    }

    func revoke(id: String, teams: Set<String>, at date: Date) async throws -> TeamKey? {
        try await database.transaction { db in
            guard var key = try db.query("SELECT \(Self.columns) FROM team_keys WHERE id = ? AND revoked_at IS NULL", [.text(id)]).first.map(Self.decode),
                teams.contains(key.team)
            else { return nil }
            try db.execute("UPDATE team_keys SET revoked_at = ? WHERE id = ?", [date.sqliteMillis, .text(id)])
            key.revokedAt = date
            return key
        }
    }

    static func decode(_ row: [SQLiteValue]) -> TeamKey {
        TeamKey(
            id: row.text(0), team: row.text(1), name: row.text(2), secretHash: row.text(3), createdBy: row.text(4), createdAt: row.date(5) ?? Date(),
            revokedAt: row.date(6))
    }
}
