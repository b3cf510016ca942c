import MuseInfra

/// muse-internal's own tables: team service keys exist only in its database.
enum InternalMigrations {
    static let track = SQLiteMigrationTrack(
        name: "internal",
        steps: [
            // 1: team service keys, by the hash of their secret.
            """
            CREATE TABLE team_keys (
                id TEXT PRIMARY KEY,
                team TEXT NOT NULL,
                name TEXT NOT NULL,
                secret_hash TEXT NOT NULL UNIQUE,
                created_by TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                revoked_at INTEGER
            );
            CREATE INDEX team_keys_by_team ON team_keys (team, id)
            """
        ])
}
