import MuseInfra

/// muse-internal's own tables: team service keys and the community exist only in its database.
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
            """,
            // 2: community posts (one per published image) and likes (one per post and user).
            """
            CREATE TABLE community_posts (
                id TEXT PRIMARY KEY,
                author TEXT NOT NULL,
                author_name TEXT,
                task_id TEXT NOT NULL,
                image_id TEXT NOT NULL UNIQUE,
                width INTEGER NOT NULL,
                height INTEGER NOT NULL,
                title TEXT NOT NULL,
                like_count INTEGER NOT NULL DEFAULT 0,
                created_at INTEGER NOT NULL
            );
            CREATE TABLE community_likes (
                post_id TEXT NOT NULL,
                user TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                PRIMARY KEY (post_id, user)
            )
            """,
        ])
}
