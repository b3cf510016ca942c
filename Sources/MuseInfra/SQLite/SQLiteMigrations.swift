import MuseCore

/// The shared schema, one entry per version; an entry never changes once released. (One did:
/// entry 1 created muse-cloud's `api_keys`, which moved to that profile's own track; databases
/// made before keep the table, and the track creates it only where it is missing.)
enum SQLiteMigrations {
    static let all: [String] = [
        // 1: catalogue, tasks with their current attempt, images.
        """
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
            model TEXT NOT NULL,
            progress REAL NOT NULL DEFAULT 0,
            params TEXT NOT NULL,
            images TEXT NOT NULL DEFAULT '[]',
            error TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            started_at INTEGER,
            finished_at INTEGER,
            attempt_id TEXT,
            worker_id TEXT,
            lease_expires_at INTEGER,
            worker_timings TEXT
        );
        CREATE UNIQUE INDEX tasks_by_attempt ON tasks (attempt_id);
        CREATE INDEX tasks_by_worker ON tasks (worker_id, status);
        CREATE TABLE images (
            id TEXT PRIMARY KEY,
            task_id TEXT NOT NULL REFERENCES tasks (id),
            tenant TEXT NOT NULL,
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            seed INTEGER NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX tasks_by_tenant ON tasks (tenant, id);
        CREATE INDEX tasks_by_tenant_status ON tasks (tenant, status, id);
        CREATE INDEX tasks_queue ON tasks (status, lane, id);
        CREATE INDEX tasks_queue_by_model ON tasks (status, lane, model, id)
        """,
        // 2: the batch key (model, size, LoRAs) so a claim can take same-shaped jobs together.
        """
        ALTER TABLE tasks ADD COLUMN batch_key TEXT;
        CREATE INDEX tasks_queue_by_batch ON tasks (status, lane, batch_key, id)
        """,
        // 3: presets with their versions, the preset a task came from, idempotency keys.
        """
        CREATE TABLE presets (
            id TEXT PRIMARY KEY,
            tenant TEXT NOT NULL,
            latest_version INTEGER NOT NULL,
            deleted_at INTEGER,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX presets_by_tenant ON presets (tenant, id);
        CREATE TABLE preset_versions (
            preset_id TEXT NOT NULL REFERENCES presets (id),
            version INTEGER NOT NULL,
            name TEXT NOT NULL,
            description TEXT NOT NULL,
            params TEXT NOT NULL,
            overridable TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (preset_id, version)
        );
        ALTER TABLE tasks ADD COLUMN preset_id TEXT;
        ALTER TABLE tasks ADD COLUMN preset_version INTEGER;
        CREATE TABLE idempotency_keys (
            tenant TEXT NOT NULL,
            key TEXT NOT NULL,
            body_hash TEXT NOT NULL,
            task_id TEXT,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (tenant, key)
        );
        CREATE INDEX idempotency_by_age ON idempotency_keys (created_at)
        """,
        // 4: the task event log behind /events (the state after each change).
        """
        CREATE TABLE task_events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            task_id TEXT NOT NULL REFERENCES tasks (id),
            type TEXT NOT NULL,
            state TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX task_events_by_task ON task_events (task_id, seq)
        """,
        // 5: webhooks: each tenant's signing secret, deliveries (made with the task's final state) and their tries.
        """
        CREATE TABLE webhook_secrets (
            tenant TEXT PRIMARY KEY,
            secret TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE webhook_deliveries (
            id TEXT PRIMARY KEY,
            tenant TEXT NOT NULL,
            task_id TEXT NOT NULL REFERENCES tasks (id),
            url TEXT NOT NULL,
            status TEXT NOT NULL,
            tries INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
        CREATE INDEX webhook_deliveries_by_task ON webhook_deliveries (tenant, task_id, id);
        CREATE INDEX webhook_deliveries_by_tenant ON webhook_deliveries (tenant, id);
        CREATE TABLE webhook_attempts (
            delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id),
            at INTEGER NOT NULL,
            status_code INTEGER,
            latency_ms INTEGER NOT NULL,
            error TEXT
        );
        CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_id, at)
        """,
        // 6: queued tasks per lane, kept by triggers, so a submit learns its queue position
        // without counting the queue (a count grows with it: O(queue) per submit).
        """
        CREATE TABLE queue_counts (lane TEXT PRIMARY KEY, n INTEGER NOT NULL);
        INSERT INTO queue_counts (lane, n) VALUES
            ('online', (SELECT count(*) FROM tasks WHERE status = 'queued' AND lane = 'online')),
            ('offline', (SELECT count(*) FROM tasks WHERE status = 'queued' AND lane = 'offline'));
        CREATE TRIGGER queue_counts_insert AFTER INSERT ON tasks WHEN NEW.status = 'queued'
        BEGIN
            UPDATE queue_counts SET n = n + 1 WHERE lane = NEW.lane;
        END;
        CREATE TRIGGER queue_counts_update AFTER UPDATE OF status ON tasks WHEN (OLD.status = 'queued') != (NEW.status = 'queued')
        BEGIN
            UPDATE queue_counts SET n = n + (CASE WHEN NEW.status = 'queued' THEN 1 ELSE -1 END) WHERE lane = NEW.lane;
        END;
        CREATE TRIGGER queue_counts_delete AFTER DELETE ON tasks WHEN OLD.status = 'queued'
        BEGIN
            UPDATE queue_counts SET n = n - 1 WHERE lane = OLD.lane;
        END;
        """,
        // 7: the ability a task needs, so a claim takes only tasks the worker can run.
        """
        ALTER TABLE tasks ADD COLUMN ability TEXT NOT NULL DEFAULT 'txt2img';
        UPDATE tasks SET ability = 'img2img' WHERE json_extract(params, '$.init_image') IS NOT NULL
        """,
        // 8: the row /readyz writes, to know a write can commit.
        """
        CREATE TABLE readiness (id INTEGER PRIMARY KEY, checked_at INTEGER NOT NULL)
        """,
        // 9: the versions of the profiles' own tracks (`SQLiteMigrationTrack`). IF NOT EXISTS: a
        // binary from before this entry, started on a database that has it, set the version back.
        """
        CREATE TABLE IF NOT EXISTS schema_tracks (name TEXT PRIMARY KEY, version INTEGER NOT NULL)
        """,
        // 10: the team a preset is shared with, from which version (its members read and run that
        // version and later ones). A table of its own,
        // IF NOT EXISTS, like 9: an older binary may have set the version back, and 10 runs again.
        """
        CREATE TABLE IF NOT EXISTS preset_shares (
            preset_id TEXT PRIMARY KEY REFERENCES presets (id),
            team TEXT NOT NULL,
            since_version INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS preset_shares_by_team ON preset_shares (team, preset_id)
        """,
        // 11: training datasets and their images (the bytes are blobs named by id and version).
        """
        CREATE TABLE IF NOT EXISTS datasets (
            id TEXT PRIMARY KEY,
            tenant TEXT NOT NULL,
            name TEXT NOT NULL,
            category TEXT NOT NULL,
            image_count INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS datasets_by_tenant ON datasets (tenant, id);
        CREATE TABLE IF NOT EXISTS dataset_images (
            id TEXT PRIMARY KEY,
            dataset_id TEXT NOT NULL REFERENCES datasets (id),
            format TEXT NOT NULL,
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            bytes INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            caption TEXT NOT NULL DEFAULT '',
            version INTEGER NOT NULL DEFAULT 1,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS dataset_images_by_dataset ON dataset_images (dataset_id, id)
        """,
        // 12: crop, tag and training jobs, who may run a private one, and their event logs.
        """
        CREATE TABLE IF NOT EXISTS jobs (
            id TEXT PRIMARY KEY,
            tenant TEXT NOT NULL,
            kind TEXT NOT NULL,
            status TEXT NOT NULL,
            dataset_id TEXT NOT NULL,
            params TEXT NOT NULL,
            resources TEXT NOT NULL,
            progress REAL NOT NULL DEFAULT 0,
            step INTEGER,
            total_steps INTEGER,
            loss REAL,
            attempt_id TEXT,
            worker_id TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            checkpoint_step INTEGER,
            checkpoint_key TEXT,
            output_model_key TEXT,
            error TEXT,
            created_at INTEGER NOT NULL,
            started_at INTEGER,
            finished_at INTEGER
        );
        CREATE UNIQUE INDEX IF NOT EXISTS jobs_by_attempt ON jobs (attempt_id);
        CREATE INDEX IF NOT EXISTS jobs_by_tenant ON jobs (tenant, kind, id);
        CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (status, resources, kind, id);
        CREATE TABLE IF NOT EXISTS job_owners (
            job_id TEXT NOT NULL REFERENCES jobs (id),
            owner TEXT NOT NULL,
            PRIMARY KEY (job_id, owner)
        );
        CREATE INDEX IF NOT EXISTS job_owners_by_owner ON job_owners (owner, job_id);
        CREATE TABLE IF NOT EXISTS job_events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            job_id TEXT NOT NULL REFERENCES jobs (id),
            type TEXT NOT NULL,
            status TEXT NOT NULL,
            progress REAL NOT NULL,
            step INTEGER,
            total_steps INTEGER,
            loss REAL,
            at INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS job_events_by_job ON job_events (job_id, seq)
        """,
        // 13: webhooks for trainings: a job's webhook URL, and deliveries of jobs as well as of
        // tasks (the deliveries table is rebuilt without its reference to tasks, which SQLite
        // cannot drop; its tries are rebuilt to point at the new table).
        """
        CREATE TABLE IF NOT EXISTS job_webhooks (
            job_id TEXT PRIMARY KEY REFERENCES jobs (id),
            url TEXT NOT NULL
        );
        CREATE TABLE webhook_deliveries_v13 (
            id TEXT PRIMARY KEY,
            tenant TEXT NOT NULL,
            task_id TEXT NOT NULL,
            url TEXT NOT NULL,
            status TEXT NOT NULL,
            tries INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER,
            created_at INTEGER NOT NULL
        );
        INSERT INTO webhook_deliveries_v13 SELECT id, tenant, task_id, url, status, tries, next_attempt_at, created_at FROM webhook_deliveries;
        CREATE TABLE webhook_attempts_v13 (
            delivery_id TEXT NOT NULL REFERENCES webhook_deliveries_v13 (id),
            at INTEGER NOT NULL,
            status_code INTEGER,
            latency_ms INTEGER NOT NULL,
            error TEXT
        );
        INSERT INTO webhook_attempts_v13 SELECT delivery_id, at, status_code, latency_ms, error FROM webhook_attempts;
        DROP TABLE webhook_attempts;
        DROP TABLE webhook_deliveries;
        ALTER TABLE webhook_deliveries_v13 RENAME TO webhook_deliveries;
        ALTER TABLE webhook_attempts_v13 RENAME TO webhook_attempts;
        CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
        CREATE INDEX IF NOT EXISTS webhook_deliveries_by_task ON webhook_deliveries (tenant, task_id, id);
        CREATE INDEX IF NOT EXISTS webhook_deliveries_by_tenant ON webhook_deliveries (tenant, id);
        CREATE INDEX IF NOT EXISTS webhook_attempts_by_delivery ON webhook_attempts (delivery_id, at)
        """,
        // 14: workers fetch a trained LoRA by its catalogue key.
        """
        CREATE INDEX IF NOT EXISTS jobs_by_output_model_key ON jobs (output_model_key) WHERE output_model_key IS NOT NULL
        """,
    ]
}
