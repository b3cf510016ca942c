import Foundation
import MuseCore
import MuseJSON

/// `PresetStore` on the embedded default's SQLite file: one row per preset, one per version.
public struct SQLitePresetStore: PresetStore {
    let database: SQLiteDatabase

    public init(database: SQLiteDatabase) {
        self.database = database
    }

    private static let select = """
        SELECT p.id, p.tenant, v.name, v.description, v.version, v.params, v.overridable, p.created_at, v.created_at, s.team, s.since_version
        FROM presets p JOIN preset_versions v ON v.preset_id = p.id LEFT JOIN preset_shares s ON s.preset_id = p.id
        """

    public func create(_ preset: Preset) async throws {
        let version = try Self.versionValues(preset)
        try await database.transaction { db in
            try db.execute(
                "INSERT INTO presets (id, tenant, latest_version, created_at) VALUES (?, ?, 1, ?)",
                [.text(preset.id), .text(preset.tenant), preset.createdAt.sqliteMillis]
            )
            try Self.share(db, preset)
            try Self.insertVersion(db, version)
        }
    }

    public func update(_ preset: Preset) async throws -> Preset? {
        try await database.transaction { db in
            guard
                let row = try db.query(
                    "SELECT latest_version FROM presets WHERE id = ? AND tenant = ? AND deleted_at IS NULL", [.text(preset.id), .text(preset.tenant)]
                ).first
            else { return nil }
            var next = preset
            next.version = row.int(0) + 1
            try db.execute("UPDATE presets SET latest_version = ? WHERE id = ?", [.integer(Int64(next.version)), .text(preset.id)])
            try Self.share(db, next)
            try Self.insertVersion(db, try Self.versionValues(next))
            return try Self.read(db, id: preset.id, version: next.version)
        }
    }

    public func preset(id: String, version: Int?) async throws -> Preset? {
        try await database.transaction { db in try Self.read(db, id: id, version: version) }
    }

    public func list(visibleTo caller: Caller, limit: Int, before: String?) async throws -> [Preset] {
        let teams = caller.teams.sorted()
        let shared = teams.isEmpty ? "" : " OR s.team IN (\(Array(repeating: "?", count: teams.count).joined(separator: ", ")))"
        var sql = Self.select + " WHERE (p.tenant = ?\(shared)) AND p.deleted_at IS NULL AND v.version = p.latest_version"
        var values: [SQLiteValue] = [.text(caller.tenant)] + teams.map(SQLiteValue.text)
        if let before {
            sql += " AND p.id < ?"
            values.append(.text(before))
        }
        sql += " ORDER BY p.id DESC LIMIT ?"
        values.append(.integer(Int64(limit)))
        return try await database.transaction { [sql, values] db in try db.query(sql, values).map(Self.decode) }
    }

    public func delete(id: String, tenant: String) async throws -> Bool {
        try await database.transaction { db in
            try db.execute(
                "UPDATE presets SET deleted_at = ? WHERE id = ? AND tenant = ? AND deleted_at IS NULL", [Date().sqliteMillis, .text(id), .text(tenant)]
            ) > 0
        }
    }

    private static func read(_ db: SQLiteConnection, id: String, version: Int?) throws -> Preset? {
        let versionClause = version == nil ? "v.version = p.latest_version" : "v.version = ?"
        let values: [SQLiteValue] = [.text(id)] + (version.map { [.integer(Int64($0))] } ?? [])
        return try db.query(select + " WHERE p.id = ? AND p.deleted_at IS NULL AND \(versionClause)", values).first.map(decode)
    }

    /// Records `preset`'s sharing as of its version: the same team as before keeps its first
    /// shared version; another team starts at this one.
    private static func share(_ db: SQLiteConnection, _ preset: Preset) throws {
        guard let team = preset.sharedWithTeam else {
            try db.execute("DELETE FROM preset_shares WHERE preset_id = ?", [.text(preset.id)])
            return
        }
        try db.execute(
            """
            INSERT INTO preset_shares (preset_id, team, since_version) VALUES (?, ?, ?)
            ON CONFLICT (preset_id) DO UPDATE SET
                since_version = CASE WHEN team = excluded.team THEN since_version ELSE excluded.since_version END,
                team = excluded.team
            """, [.text(preset.id), .text(team), .integer(Int64(preset.version))])
    }

    private static func versionValues(_ preset: Preset) throws -> [SQLiteValue] {
        [
            .text(preset.id), .integer(Int64(preset.version)), .text(preset.name), .text(preset.description),
            try SQLiteJSON.encode(preset.params), try SQLiteJSON.encode(preset.overridable), preset.updatedAt.sqliteMillis,
        ]
    }

    private static func insertVersion(_ db: SQLiteConnection, _ values: [SQLiteValue]) throws {
        try db.execute(
            "INSERT INTO preset_versions (preset_id, version, name, description, params, overridable, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)", values
        )
    }

    private static func decode(_ row: [SQLiteValue]) throws -> Preset {
        Preset(
            id: row.text(0), tenant: row.text(1), name: row.text(2), description: row.text(3), version: row.int(4),
            params: try SQLiteJSON.decode(JSONValue.self, row.text(5)), overridable: try SQLiteJSON.decode([String].self, row.text(6)),
            sharedWithTeam: row.optionalText(9), sharedSince: row.optionalText(9) == nil ? 1 : row.int(10),
            createdAt: row.date(7) ?? Date(timeIntervalSince1970: 0),
            updatedAt: row.date(8) ?? Date(timeIntervalSince1970: 0)
        )
    }
}
