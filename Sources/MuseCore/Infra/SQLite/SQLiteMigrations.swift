/// The schema, one entry per version; an entry never changes once released.
enum SQLiteMigrations {
    static let all: [String] = [
        // 1: keys, catalogue, tasks.
        """
        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            tenant TEXT NOT NULL,
            secret_hash TEXT NOT NULL UNIQUE,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE models (
            key TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            base TEXT NOT NULL,
            source TEXT NOT NULL,
            version TEXT NOT NULL,
            trigger_words TEXT NOT NULL,
            default_params TEXT NOT NULL,
            min_size INTEGER NOT NULL,
            max_size INTEGER NOT NULL,
            owner TEXT,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE tasks (
            id TEXT PRIMARY KEY,
            tenant TEXT NOT NULL,
            status TEXT NOT NULL,
            lane TEXT NOT NULL,
            progress REAL NOT NULL DEFAULT 0,
            params TEXT NOT NULL,
            images TEXT NOT NULL DEFAULT '[]',
            error TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            started_at INTEGER,
            finished_at INTEGER
        );
        CREATE INDEX tasks_by_tenant ON tasks (tenant, id);
        CREATE INDEX tasks_by_tenant_status ON tasks (tenant, status, id);
        CREATE INDEX tasks_queue ON tasks (status, lane, id)
        """
    ]
}
