import Foundation
import MuseCore
import MuseWorkerProtocol

/// `DispatchStore` on the same SQLite tasks table.
extension SQLiteTaskStore: DispatchStore {
    public func claimNext(
        workerID: String, abilities: Set<Ability>, preferredModels: [String], loadedAnywhere: Set<String>, agedBefore: Date, leaseUntil: Date,
        limit: Int
    ) async throws -> [Attempt] {
        let now = Date()
        // A worker with every generation ability takes any task: no filter, the plain index seeks.
        let only =
            Ability.generation.isSubset(of: abilities)
            ? "" : " AND ability IN (\(abilities.intersection(Ability.generation).map { "'\($0.rawValue)'" }.sorted().joined(separator: ", ")))"
        guard !abilities.isDisjoint(with: Ability.generation) else { return [] }
        return try await database.transaction { db in
            guard let head = try Self.nextQueued(db, only: only, preferredModels: preferredModels, loadedAnywhere: loadedAnywhere, agedBefore: agedBefore)
            else {
                return []
            }
            var ids = [head]
            if limit > 1, let key = try db.query("SELECT lane, batch_key FROM tasks WHERE id = ?", [.text(head)]).first, let batchKey = key.optionalText(1) {
                ids += try db.query(
                    "SELECT id FROM tasks WHERE status = 'queued' AND lane = ? AND batch_key = ? AND id != ? ORDER BY id LIMIT ?",
                    [.text(key.text(0)), .text(batchKey), .text(head), .integer(Int64(limit - 1))]
                ).map { $0.text(0) }
            }
            var attempts: [Attempt] = []
            for id in ids {
                let attemptID = IDGenerator.make("att")
                try db.execute(
                    """
                    UPDATE tasks SET status = 'dispatched', attempt_id = ?, worker_id = ?, lease_expires_at = ?,
                      attempts = attempts + 1, started_at = coalesce(started_at, ?) WHERE id = ? AND status = 'queued'
                    """,
                    [.text(attemptID), .text(workerID), leaseUntil.sqliteMillis, now.sqliteMillis, .text(id)]
                )
                guard let row = try db.query("SELECT \(Self.columns) FROM tasks WHERE id = ?", [.text(id)]).first else { continue }
                let task = try Self.decode(row)
                try appendEvent(db, from: .queued, progress: nil, to: task)
                attempts.append(Attempt(id: attemptID, task: task, workerID: workerID))
            }
            return attempts
        }
    }

    public func unclaim(attemptIDs: [String]) async throws {
        try await database.transaction { db in
            for attemptID in attemptIDs {
                guard let id = try db.query("SELECT id FROM tasks WHERE attempt_id = ? AND status = 'dispatched'", [.text(attemptID)]).first?.text(0) else {
                    continue
                }
                try db.execute(
                    """
                    UPDATE tasks SET status = 'queued', attempts = max(0, attempts - 1), attempt_id = NULL, worker_id = NULL,
                      lease_expires_at = NULL WHERE id = ?
                    """,
                    [.text(id)]
                )
                if let task = try db.query("SELECT \(Self.columns) FROM tasks WHERE id = ?", [.text(id)]).first.map(Self.decode) {
                    try appendEvent(db, from: .dispatched, progress: nil, to: task)
                }
            }
        }
    }

    /// The claim order, as a few index seeks instead of sorting the whole queue: online before
    /// offline; within a lane the oldest task if it has waited past `agedBefore` for a model no
    /// worker has loaded (nobody else would ever take it), else the oldest for a preferred model,
    /// else the oldest.
    private static func nextQueued(
        _ db: SQLiteConnection, only: String, preferredModels: [String], loadedAnywhere: Set<String>, agedBefore: Date
    ) throws -> String? {
        for lane in ["online", "offline"] {
            guard
                let oldest = try db.query(
                    "SELECT id, created_at, model FROM tasks WHERE status = 'queued' AND lane = ?\(only) ORDER BY id LIMIT 1", [.text(lane)]
                ).first
            else { continue }
            if preferredModels.isEmpty { return oldest.text(0) }
            if (oldest.date(1) ?? .distantFuture) < agedBefore, !loadedAnywhere.contains(oldest.text(2)) { return oldest.text(0) }
            var best: String?
            for model in preferredModels {
                if let id = try db.query(
                    "SELECT id FROM tasks WHERE status = 'queued' AND lane = ? AND model = ?\(only) ORDER BY id LIMIT 1", [.text(lane), .text(model)]
                ).first?.text(0), best.map({ id < $0 }) ?? true {
                    best = id
                }
            }
            return best ?? oldest.text(0)
        }
        return nil
    }

    /// Applies `sql` to the task whose current attempt is `attemptID` if it is in one of `from`.
    private func update(
        _ attemptID: String, from: [TaskStatus], _ sql: String, _ values: [SQLiteValue],
        extra: (@Sendable (SQLiteConnection, GenerationTask) throws -> Void)? = nil
    ) async throws -> GenerationTask? {
        let states = from.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        return try await database.transaction { db in
            guard let before = try db.query("SELECT id, status, progress FROM tasks WHERE attempt_id = ? AND status IN (\(states))", [.text(attemptID)]).first
            else {
                return nil
            }
            let id = before.text(0)
            try db.execute("UPDATE tasks SET \(sql) WHERE id = ?", values + [.text(id)])
            guard let row = try db.query("SELECT \(Self.columns) FROM tasks WHERE id = ?", [.text(id)]).first else { return nil }
            let task = try Self.decode(row)
            try extra?(db, task)
            try appendEvent(db, from: TaskStatus(rawValue: before.text(1)), progress: before.double(2), to: task)
            return task
        }
    }

    public func recordProgress(attemptID: String, progress: Double) async throws -> GenerationTask? {
        try await update(attemptID, from: [.dispatched, .running], "status = 'running', progress = max(progress, ?)", [.real(min(1, max(0, progress)))])
    }

    public func complete(
        attemptID: String, images: [TaskImage], timings: WorkerTimings?, accept: @escaping @Sendable (GenerationTask) throws -> Void
    ) async throws -> GenerationTask? {
        let now = Date()
        return try await update(
            attemptID, from: [.dispatched, .running],
            "status = 'succeeded', progress = 1, images = ?, finished_at = ?, lease_expires_at = NULL, worker_timings = ?",
            [try SQLiteJSON.encode(images), now.sqliteMillis, try timings.map(SQLiteJSON.encode) ?? .null]
        ) { db, task in
            try accept(task)
            for image in images {
                try db.execute(
                    "INSERT OR IGNORE INTO images (id, task_id, tenant, width, height, seed, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        .text(image.id), .text(task.id), .text(task.tenant), .integer(Int64(image.width)), .integer(Int64(image.height)), .integer(image.seed),
                        now.sqliteMillis,
                    ]
                )
            }
        }
    }

    public func fail(attemptID: String, error: TaskError, timings: WorkerTimings?) async throws -> GenerationTask? {
        try await update(
            attemptID, from: [.dispatched, .running], "status = 'failed', error = ?, finished_at = ?, lease_expires_at = NULL, worker_timings = ?",
            [try SQLiteJSON.encode(error), Date().sqliteMillis, try timings.map(SQLiteJSON.encode) ?? .null]
        )
    }

    public func requeue(attemptID: String, reason: String, maxAttempts: Int) async throws -> GenerationTask? {
        let error = try SQLiteJSON.encode(TaskError(code: "worker_lost", message: "\(reason); gave up after \(maxAttempts) attempts"))
        return try await update(
            attemptID, from: [.dispatched, .running],
            """
            status = CASE WHEN attempts >= ? THEN 'failed' ELSE 'queued' END,
            error = CASE WHEN attempts >= ? THEN ? ELSE error END,
            finished_at = CASE WHEN attempts >= ? THEN ? ELSE NULL END,
            progress = 0, attempt_id = NULL, worker_id = NULL, lease_expires_at = NULL
            """,
            [.integer(Int64(maxAttempts)), .integer(Int64(maxAttempts)), error, .integer(Int64(maxAttempts)), Date().sqliteMillis]
        )
    }

    public func attempts(workerID: String) async throws -> [String] {
        try await database.transaction { db in
            try db.query("SELECT attempt_id FROM tasks WHERE worker_id = ? AND status IN ('dispatched', 'running')", [.text(workerID)]).map { $0.text(0) }
        }
    }

    public func orphanedAttempts(liveWorkers: Set<String>?, now: Date) async throws -> [String] {
        var sql = "SELECT attempt_id FROM tasks WHERE status IN ('dispatched', 'running') AND (lease_expires_at < ?"
        var values: [SQLiteValue] = [now.sqliteMillis]
        if let live = liveWorkers {
            sql += live.isEmpty ? " OR 1)" : " OR worker_id NOT IN (\(live.map { _ in "?" }.joined(separator: ", "))))"
            values += live.map { .text($0) }
        } else {
            sql += ")"
        }
        return try await database.transaction { [sql, values] db in try db.query(sql, values).map { $0.text(0) } }
    }

    public func releaseScheduled(limit: Int) async throws -> Int {
        try await database.transaction { db in
            let ids = try db.query("SELECT id FROM tasks WHERE status = 'scheduled' ORDER BY id LIMIT ?", [.integer(Int64(limit))]).map { $0.text(0) }
            for id in ids {
                try db.execute("UPDATE tasks SET status = 'queued' WHERE id = ? AND status = 'scheduled'", [.text(id)])
                if let task = try db.query("SELECT \(Self.columns) FROM tasks WHERE id = ?", [.text(id)]).first.map(Self.decode) {
                    try appendEvent(db, from: .scheduled, progress: nil, to: task)
                }
            }
            return ids.count
        }
    }

    public func count(status: TaskStatus) async throws -> Int {
        try await database.transaction { db in
            try db.query("SELECT count(*) FROM tasks WHERE status = ?", [.text(status.rawValue)]).first?.int(0) ?? 0
        }
    }

    public func census() async throws -> (byStatus: [TaskStatus: Int], queuedByLane: [Priority: Int]) {
        try await database.transaction { db in
            var byStatus: [TaskStatus: Int] = [:]
            var byLane: [Priority: Int] = [:]
            for row in try db.query("SELECT status, lane, count(*) FROM tasks GROUP BY status, lane") {
                guard let status = TaskStatus(rawValue: row.text(0)) else { continue }
                byStatus[status, default: 0] += row.int(2)
                if status == .queued, let lane = Priority(rawValue: row.text(1)) { byLane[lane, default: 0] += row.int(2) }
            }
            return (byStatus, byLane)
        }
    }

    public func imageTenant(_ imageID: String) async throws -> String? {
        try await database.transaction { db in try db.query("SELECT tenant FROM images WHERE id = ?", [.text(imageID)]).first?.text(0) }
    }
}
