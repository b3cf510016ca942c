import MuseInfra

/// muse-cloud's own tables: API keys exist only in its database.
enum APIKeyMigrations {
    static let track = SQLiteMigrationTrack(
        name: "cloud",
        steps: [
            // 1: API keys, by the hash of their secret. IF NOT EXISTS: databases made before this
            // track had the table from the shared schema.
            """
            CREATE TABLE IF NOT EXISTS api_keys (
                id TEXT PRIMARY KEY,
                tenant TEXT NOT NULL,
                secret_hash TEXT NOT NULL UNIQUE,
                created_at INTEGER NOT NULL
            )
            """
        ])
}
