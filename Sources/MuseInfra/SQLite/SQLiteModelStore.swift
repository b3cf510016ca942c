import Foundation
import MuseCore

/// `ModelStore` on the embedded default's SQLite file.
public struct SQLiteModelStore: ModelStore {
    let database: SQLiteDatabase

    public init(database: SQLiteDatabase) {
        self.database = database
    }

    private static let columns = "key, name, kind, base, source, version, trigger_words, default_params, min_size, max_size, owner, created_at"

    public func upsert(_ models: [Model]) async throws {
        let rows = try models.map { m -> [SQLiteValue] in
            [
                .text(m.key), .text(m.name), .text(m.kind.rawValue), .text(m.base.rawValue), .text(m.source.rawValue), .text(m.version),
                try SQLiteJSON.encode(m.triggerWords), try SQLiteJSON.encode(m.defaultParams), .integer(Int64(m.minSize)),
                .integer(Int64(m.maxSize)), m.owner.map(SQLiteValue.text) ?? .null, m.createdAt.sqliteMillis,
            ]
        }
        try await database.transaction { db in
            for row in rows {
                // Re-importing keeps the first created_at: the model did not appear anew.
                try db.execute(
                    """
                    INSERT INTO models (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (key) DO UPDATE SET name = excluded.name, kind = excluded.kind, base = excluded.base,
                      source = excluded.source, version = excluded.version, trigger_words = excluded.trigger_words,
                      default_params = excluded.default_params, min_size = excluded.min_size, max_size = excluded.max_size,
                      owner = excluded.owner
                    """,
                    row
                )
            }
        }
    }

    public func model(key: String) async throws -> Model? {
        try await database.transaction { db in
            try db.query("SELECT \(Self.columns) FROM models WHERE key = ?", [.text(key)]).first.map(Self.decode)
        }
    }

    public func models(kind: ModelKind?, base: BaseModel?, source: ModelSource?) async throws -> [Model] {
        var sql = "SELECT \(Self.columns) FROM models WHERE 1 = 1"
        var values: [SQLiteValue] = []
        if let kind { sql += " AND kind = ?"; values.append(.text(kind.rawValue)) }
        if let base { sql += " AND base = ?"; values.append(.text(base.rawValue)) }
        if let source { sql += " AND source = ?"; values.append(.text(source.rawValue)) }
        sql += " ORDER BY key"
        let query = sql
        let parameters = values
        return try await database.transaction { db in try db.query(query, parameters).map(Self.decode) }
    }

    public func count() async throws -> Int {
        try await database.transaction { db in try db.query("SELECT count(*) FROM models").first?.int(0) ?? 0 }
    }

    private static func decode(_ row: [SQLiteValue]) throws -> Model {
        Model(
            key: row.text(0), name: row.text(1), kind: ModelKind(rawValue: row.text(2)) ?? .checkpoint,
            base: BaseModel(rawValue: row.text(3)) ?? .sd15, source: ModelSource(rawValue: row.text(4)) ?? .private,
            version: row.text(5), triggerWords: try SQLiteJSON.decode([String].self, row.text(6)),
            defaultParams: try SQLiteJSON.decode(ModelDefaults.self, row.text(7)), minSize: row.int(8), maxSize: row.int(9),
            owner: row.optionalText(10), createdAt: row.date(11) ?? Date(timeIntervalSince1970: 0)
        )
    }
}
